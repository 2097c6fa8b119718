import AsyncHTTPClient
import Foundation
import Logging
import ProviderSimulators
import Testing

@testable import Providers

/// The clients' requests and their reading of the answers, against the provider simulators (which
/// follow the published definitions, see `Tests/Fixtures/Published/*/SOURCES.md`): the paths the app
/// does not drive end to end (Plivo's three call views, the Telnyx login-token request) and the limits
/// (number-list page caps, Plivo's live-call lookup).
@Suite struct ClientsAgainstSimulatorTests {
    static let logger = Logger(label: "clients-against-simulator")

    /// A running simulator with fresh accounts, and clients pointed at it.
    struct Stack {
        let simulator: ProviderSimulator
        let accounts: SimulatorAccounts
        let vonagePrivateKeyPEM: String
        var http: ProviderHTTPClient { ProviderHTTPClient(client: .shared) }

        /// Where webhooks go: the simulator itself, which answers at once (a closed port would stall delivery).
        var sink: String { "http://127.0.0.1:\(simulator.port)/sink" }

        func twilio() throws -> TwilioProvider {
            let account = try #require(accounts.twilio.first)
            return TwilioProvider(
                configuration: try TwilioConfiguration(document: [
                    "account_sid": .string(account.accountSID), "auth_token": .string(account.authToken),
                    "from_numbers": .array(account.numbers.prefix(2).map(JSONValue.string)),
                ]), previous: nil, previousValidUntil: nil, http: http, baseURL: simulator.baseURLs.twilio)
        }

        func telnyx() throws -> TelnyxProvider {
            let account = try #require(accounts.telnyx.first)
            return TelnyxProvider(
                configuration: try TelnyxConfiguration(document: [
                    "api_key": .string(account.apiKey), "connection_id": .string(account.connectionIDs[0]),
                    "from_numbers": .array(account.numbers.prefix(2).map(JSONValue.string)),
                    "public_key": .string(account.publicKeyBase64),
                ]), previous: nil, previousValidUntil: nil, http: http, baseURL: simulator.baseURLs.telnyx)
        }

        func vonage() throws -> VonageProvider {
            let account = try #require(accounts.vonage.first)
            return VonageProvider(
                configuration: try VonageConfiguration(document: [
                    "api_key": .string(account.apiKey), "api_secret": .string(account.apiSecret),
                    "application_id": .string(account.applicationID), "private_key": .string(vonagePrivateKeyPEM),
                    "signature_secret": .string(account.signatureSecret),
                    "from_numbers": .array(account.numbers.prefix(2).map(JSONValue.string)),
                ]), previous: nil, previousValidUntil: nil, http: http, baseURL: simulator.baseURLs.vonage,
                restBaseURL: simulator.baseURLs.vonageRest)
        }

        func plivo() throws -> PlivoProvider {
            let account = try #require(accounts.plivo.first)
            return PlivoProvider(
                configuration: try PlivoConfiguration(document: [
                    "auth_id": .string(account.authID), "auth_token": .string(account.authToken),
                    "from_numbers": .array(account.numbers.prefix(2).map(JSONValue.string)),
                ]), previous: nil, previousValidUntil: nil, http: http, baseURL: simulator.baseURLs.plivo)
        }

        static func run(
            settings: CallScenarioSettings = .init(), accounts configure: (inout SimulatorAccounts) -> Void = { _ in },
            _ body: (Stack) async throws -> Void
        ) async throws {
            var (accounts, keys) = try SimulatorAccounts.random()
            configure(&accounts)
            let simulator = ProviderSimulator(accounts: accounts, settings: settings)
            try await simulator.start()
            do {
                try await body(Stack(simulator: simulator, accounts: accounts, vonagePrivateKeyPEM: keys.first ?? ""))
            } catch {
                await simulator.shutdown()
                throw error
            }
            await simulator.shutdown()
        }
    }

    /// Polls `condition` every 20 ms for up to 5 s.
    static func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(20) {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    // MARK: - Telnyx login token

    /// telnyx-python `resources/telephony_credentials.py` `token()`: `POST …/token` with no body and
    /// `Accept: text/plain`; the simulator refuses JSON-only clients with 406.
    @Test func telnyxLoginTokenIsRequestedAsTheSDKDoes() async throws {
        try await Stack.run { stack in
            let telnyx = try stack.telnyx()
            let connection = try #require(stack.accounts.telnyx.first?.credentialConnectionIDs.first)
            let created = try await telnyx.send(
                .post, "/telephony_credentials", json: ["connection_id": connection, "name": "agent-9"], logger: Self.logger)
            let id = try #require((created.jsonObject()?["data"] as? [String: Any])?["id"] as? String)
            let token = try await telnyx.loginToken(credentialID: id, logger: Self.logger)
            #expect(token.split(separator: ".").count == 3)
            let request = try #require(stack.simulator.requests().last { $0.path.hasSuffix("/token") })
            #expect(request.method == "POST")
            #expect(request.status == 201)
            #expect(request.headers["accept"] == "text/plain")
            #expect(request.body.isEmpty, "\(request.bodyText)")
            #expect(request.headers["content-type"] == nil)
        }
    }

    // MARK: - Plivo call views

    /// The CallUUID Plivo's callbacks named for a request (read from what the simulator sent).
    static func callUUID(_ stack: Stack, request: String) -> String? {
        stack.simulator.webhooks().lazy.compactMap { webhook -> String? in
            let form = Dictionary(webhook.formParameters, uniquingKeysWith: { first, _ in first })
            return form["RequestUUID"] == request ? form["CallUUID"] : nil
        }.first
    }

    /// plivo-python's three views of a call: queued by request (`?status=queued`), live by CallUUID
    /// found through the live list (`?status=live`), and the ended call's record (`call_state`) by the
    /// CallUUID; hanging up without the CallUUID goes through the live list too.
    @Test func plivoCallStateFollowsTheQueuedLiveAndRecordViews() async throws {
        let settings = CallScenarioSettings(
            ringDelay: .seconds(5), answerDelay: .milliseconds(50), talkTime: .seconds(60))
        try await Stack.run(settings: settings) { stack in
            let plivo = try stack.plivo()
            let from = try #require(stack.accounts.plivo.first?.numbers.first)
            let placed = try await plivo.initiateCall(
                OutboundCall(to: "+14155550100", from: from, answerURL: stack.sink, statusCallbackURL: stack.sink),
                logger: Self.logger)
            let request = placed.providerCallID

            let queued = try await plivo.callState(providerCallID: request, logger: Self.logger)
            #expect(queued.status == .queued, "\(queued)")
            #expect(queued.rawStatus == "queued")

            // Live: found by request through the live list, no CallUUID known yet.
            var live: ProviderCallState?
            #expect(
                try await Self.eventually {
                    live = try await plivo.callState(providerCallID: request, logger: Self.logger)
                    return live?.status == .inProgress
                }, "\(String(describing: live))")
            #expect(live?.providerCallID == request)
            let paths = stack.simulator.requests().map { "\($0.method) \($0.path)?\($0.query ?? "")" }
            #expect(paths.contains { $0.hasSuffix("/Call/?status=live") }, "\(paths)")

            // Hang-up without the CallUUID: the request is no longer queued (404), the live list names the call.
            try await plivo.hangUp(providerCallID: request, logger: Self.logger)
            let deletes = stack.simulator.requests().filter { $0.method == "DELETE" }.map { "\($0.path) \($0.status)" }
            #expect(deletes.count == 2 && deletes[0].contains("/Request/\(request)/ 404") && deletes[1].hasSuffix(" 204"), "\(deletes)")

            // Ended: the record by CallUUID; without the CallUUID the error says why.
            #expect(await Self.eventually { Self.callUUID(stack, request: request) != nil })
            let callUUID = try #require(Self.callUUID(stack, request: request))
            #expect(callUUID != request)
            #expect(
                try await Self.eventually {
                    try await plivo.callState(providerCallID: request, legID: callUUID, logger: Self.logger).status.isTerminal
                })
            let ended = try await plivo.callState(providerCallID: request, legID: callUUID, logger: Self.logger)
            #expect(ended.status == .completed, "\(ended)")
            #expect(ended.rawStatus == "ANSWER")
            #expect(ended.providerCallID == request)
            let unknown = await #expect(throws: ProviderError.self) {
                _ = try await plivo.callState(providerCallID: request, logger: Self.logger)
            }
            #expect(unknown.map { "\($0)".contains("neither queued nor live") && "\($0)".contains("CallUUID") } == true, "\(String(describing: unknown))")
        }
    }

    /// The record of a call that never answered names its ending in `call_state` (BUSY, NO_ANSWER, FAILED).
    @Test(arguments: [("+14155550486", CallStatus.busy, "BUSY"), ("+14155550404", .noAnswer, "NO_ANSWER"), ("+14155550500", .failed, "FAILED")])
    func plivoRecordsOfUnansweredCalls(to: String, status: CallStatus, callState: String) async throws {
        try await Stack.run { stack in
            let plivo = try stack.plivo()
            let from = try #require(stack.accounts.plivo.first?.numbers.first)
            let request = try await plivo.initiateCall(
                OutboundCall(to: to, from: from, answerURL: stack.sink, statusCallbackURL: stack.sink), logger: Self.logger
            ).providerCallID
            var callUUID: String?
            #expect(
                await Self.eventually {
                    callUUID = Self.callUUID(stack, request: request)
                    return stack.simulator.webhooks().contains { $0.bodyText.contains("Event=Hangup") && $0.bodyText.contains(request) }
                })
            let state = try await plivo.callState(providerCallID: request, legID: try #require(callUUID), logger: Self.logger)
            #expect(state.status == status)
            #expect(state.rawStatus == callState)
        }
    }

    /// More live calls than one lookup reads: an error that says so, never "not reported yet".
    @Test func plivoLiveLookupPastItsLimitSaysSo() async throws {
        try await Stack.run(settings: CallScenarioSettings(ringDelay: .milliseconds(10), answerDelay: .milliseconds(10), talkTime: .seconds(60))) { stack in
            var plivo = try stack.plivo()
            plivo.liveLookupLimit = 1
            let from = try #require(stack.accounts.plivo.first?.numbers.first)
            var requests: [String] = []
            for to in ["+14155550100", "+14155550101"] {
                requests.append(
                    try await plivo.initiateCall(
                        OutboundCall(to: to, from: from, answerURL: stack.sink, statusCallbackURL: stack.sink),
                        logger: Self.logger
                    ).providerCallID)
            }
            #expect(
                try await Self.eventually {
                    let ids = try await plivo.send(.get, "\(plivo.accountURL)/Call/?status=live", logger: Self.logger)
                    return (ids.jsonObject()?["calls"] as? [String])?.count == 2
                })
            var refusals = 0
            for request in requests {
                do {
                    let state = try await plivo.callState(providerCallID: request, logger: Self.logger)
                    // Live is ringing or answered; on a loaded run the answer may not have come yet.
                    #expect(state.status == .inProgress || state.status == .ringing, "\(state)")
                } catch {
                    #expect("\(error)".contains("more than the 1 one lookup reads"), "\(error)")
                    refusals += 1
                }
            }
            // One lookup reads one live call: at most one of the two is found.
            #expect(refusals >= 1)
        }
    }

    // MARK: - Number listings past their page cap

    /// Every provider reads its number list to the end or fails saying so; none returns the first
    /// pages as if they were all (Plivo and Telnyx used to).
    @Test(arguments: ["twilio", "telnyx", "vonage", "plivo"])
    func numberListingsPastTheirPageCapFailInsteadOfTruncating(provider: String) async throws {
        // One more than Twilio's 1,000-number page, so every provider needs a second page.
        let extra = (0..<1_001).map { String(format: "+1415%07d", 7_000_000 + $0) }
        try await Stack.run(accounts: { accounts in
            accounts.twilio[0].numbers += extra
            accounts.telnyx[0].numbers += extra
            accounts.vonage[0].numbers += extra
            accounts.plivo[0].numbers += extra
        }) { stack in
            func list(limit: Int) async throws -> [ProviderPhoneNumber] {
                switch provider {
                case "twilio":
                    var client = try stack.twilio()
                    client.numberPageLimit = limit
                    return try await client.phoneNumbers(logger: Self.logger)
                case "telnyx":
                    var client = try stack.telnyx()
                    client.numberPageLimit = limit
                    return try await client.phoneNumbers(logger: Self.logger)
                case "vonage":
                    var client = try stack.vonage()
                    client.numberPageLimit = limit
                    return try await client.phoneNumbers(logger: Self.logger)
                default:
                    var client = try stack.plivo()
                    client.numberPageLimit = limit
                    return try await client.phoneNumbers(logger: Self.logger)
                }
            }
            let error = await #expect(throws: ProviderError.self) { _ = try await list(limit: 1) }
            guard case .invalidResponse(let reason)? = error else {
                Issue.record("\(provider): \(String(describing: error))")
                return
            }
            #expect(reason.contains("did not end within 1 pages") && reason.contains("no partial list"), "\(reason)")
            let all = try await list(limit: 1_000)
            #expect(all.count == 1_003, "\(provider): \(all.count)")
        }
    }
}
