import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import Persistence
import ProviderSimulators
import Providers
import Synchronization
import TestSupport
import Testing

@testable import App

/// The whole cold-call flow against the provider simulators over real sockets: import a contact,
/// dial it into a conference, join the agent's browser leg, mute/unmute/hold/unhold, end, receive
/// the recording, log the outcome, read the call log — for Twilio and for Telnyx.
@Suite struct ColdCallEndToEndTests {
    static let contactPhone = "+14155550123"
    /// Long enough that the contact never hangs up by themselves during a test.
    static let settings = CallScenarioSettings(talkTime: .seconds(60))

    /// Every response body of a test, to search for secrets at the end.
    final class Transcript: Sendable {
        let texts = Mutex<[String]>([])
        func add(_ text: String) { texts.withLock { $0.append(text) } }
    }

    // MARK: - Setup

    /// Stores Acme's cold-call configuration for `provider` and points the provider's browser
    /// routing (Twilio TwiML app Voice URL, Telnyx credential connection webhook) at Switchboard.
    /// `recording`: the RECORDING_POLICY to store (none: calls are not recorded).
    func configureColdCalls(
        _ stack: LiveStack, _ provider: ProviderName, recording: [String: Any]? = ["mode": "on"]
    ) async throws {
        let organization = stack.harness.acme.id.lowercasedString
        let webhooks = "\(stack.baseURL)/api/v1/telephony/webhooks/\(provider.rawValue)/\(organization)/cold-call"
        let document: [String: Any]
        switch provider {
        case .twilio:
            let account = try #require(stack.accounts.twilio.first)
            let key = try #require(account.apiKeys.first)
            let application = try #require(account.applications.first)
            document = [
                "account_sid": account.accountSID, "auth_token": account.authToken, "from_numbers": account.numbers,
                "api_key_sid": key.sid, "api_key_secret": key.secret, "twiml_app_sid": application.sid,
            ]
            let update = try await LiveStack.request(
                .POST, "\(stack.simulator.baseURLs.twilio)/Accounts/\(account.accountSID)/Applications/\(application.sid).json",
                raw: ("application/x-www-form-urlencoded", "VoiceUrl=\(Self.formEscape(webhooks + "/twiml"))&VoiceMethod=POST"),
                headers: [("Authorization", "Basic " + Data("\(account.accountSID):\(account.authToken)".utf8).base64EncodedString())])
            #expect(update.status == 200, "TwiML app update: \(update.text)")
        case .telnyx:
            let account = try #require(stack.accounts.telnyx.first)
            let credentialConnection = try #require(account.credentialConnectionIDs.first)
            document = [
                "api_key": account.apiKey, "connection_id": account.connectionIDs[0], "from_numbers": account.numbers,
                "public_key": account.publicKeyBase64, "credential_connection_id": credentialConnection,
            ]
            let update = try await LiveStack.request(
                .PATCH, "\(stack.simulator.baseURLs.telnyx)/credential_connections/\(credentialConnection)",
                key: account.apiKey, json: ["webhook_event_url": webhooks + "/events"])
            #expect(update.status == 200, "credential connection update: \(update.text)")
        default:
            Issue.record("no cold calls for \(provider.rawValue)")
            return
        }
        let put = try await stack.send(
            .PUT, "/api/v1/organizations/acme/configuration/\(provider.configurationKey.rawValue)",
            key: stack.harness.acmeAdmin, json: document)
        #expect(put.status == 201, "storing \(provider.rawValue): \(put.text)")
        let choose = try await stack.send(
            .PUT, "/api/v1/organizations/acme/configuration/TELEPHONY_PROVIDER", key: stack.harness.acmeAdmin,
            json: ["provider": provider.rawValue], headers: try await stack.ifMatch("TELEPHONY_PROVIDER"))
        #expect(choose.status == 200 || choose.status == 201)
        if let recording {
            let policy = try await stack.send(
                .PUT, "/api/v1/organizations/acme/configuration/RECORDING_POLICY", key: stack.harness.acmeAdmin,
                json: recording)
            #expect(policy.status == 201, "storing RECORDING_POLICY: \(policy.text)")
        }
    }

    static func formEscape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// Polls the session until `done` holds (or 15 s pass); returns the last status.
    func waitForStatus(
        _ stack: LiveStack, _ conferenceID: String, _ what: String, _ done: ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(15) {
            last = try await stack.send(.GET, "/api/v1/cold-call/status/\(conferenceID)", key: stack.harness.acmeService).object
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("timed out waiting for \(what); last status: \(last)")
        return last
    }

    static func participants(_ status: [String: Any], role: String) -> [[String: Any]] {
        (status["participants"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == role }
    }

    static func joined(_ status: [String: Any], role: String) -> [String: Any]? {
        participants(status, role: role).first { $0["joined_at"] != nil && $0["left_at"] == nil }
    }

    // MARK: - The whole flow

    @Test(arguments: [(ProviderName.twilio, false), (.twilio, true), (.telnyx, false), (.telnyx, true)])
    func theWholeColdCallFlow(_ provider: ProviderName, duplicateWebhooks: Bool) async throws {
        var settings = Self.settings
        settings.duplicateEveryWebhook = duplicateWebhooks
        try await LiveStack.run(settings: settings) { stack in
            let transcript = Transcript()
            func send(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil, raw: (String, String)? = nil)
                async throws -> (status: Int, object: [String: Any], text: String)
            {
                let response = try await stack.send(method, path, key: stack.harness.acmeService, json: json, raw: raw)
                transcript.add(response.text)
                return response
            }
            try await configureColdCalls(stack, provider)

            // Import the contact.
            let imported = try await send(
                .POST, "/api/v1/contacts/import?default_country=US",
                raw: ("text/csv", "Name,Phone,Company\r\n\"Lovelace, Ada\",(415) 555-0123,Analytical Engines\r\n"))
            #expect(imported.status == 200, "\(imported.text)")
            let contacts = try await send(.GET, "/api/v1/contacts?search=Lovelace")
            let contact = try #require((contacts.object["contacts"] as? [[String: Any]])?.first)
            let contactID = try #require(contact["contact_id"] as? String ?? contact["id"] as? String)

            // Dial the contact into a new session.
            let initiated = try await send(.POST, "/api/v1/cold-call/initiate", json: ["contact_id": contactID])
            #expect(initiated.status == 201, "\(initiated.text)")
            let conferenceID = try #require(initiated.object["conference_id"] as? String)
            let callID = try #require(initiated.object["call_id"] as? String)
            #expect(initiated.object["status"] as? String == "init")

            // The contact answers: their leg joins the conference. A Telnyx conference exists from its
            // creation on; a Twilio conference does not start until a second participant joins
            // (Twilio's <Conference> documentation), so the session stays "init" until the agent is in.
            let startsOnFirstJoin = provider != .twilio
            var status = try await waitForStatus(stack, conferenceID, "the contact to join") {
                Self.joined($0, role: "contact") != nil
                    && $0["status"] as? String == (startsOnFirstJoin ? "in-progress" : "init")
            }
            #expect(status["contact_phone"] as? String == Self.contactPhone)
            #expect(status["contact_name"] as? String == "Lovelace, Ada")

            // The agent joins from the browser.
            let join = try await send(
                .POST, "/api/v1/cold-call/webrtc-join", json: ["conference_id": conferenceID, "client_id": "agent-7"])
            #expect(join.status == 200, "\(join.text)")
            switch provider {
            case .twilio:
                let token = try #require(join.object["access_token"] as? String)
                #expect(join.object["login_token"] == nil)
                let connect = try await LiveStack.request(
                    .POST, "http://127.0.0.1:\(stack.simulator.port)/twilio/_sim/client-calls",
                    json: ["access_token": token, "params": [String: String]()])
                #expect(connect.status == 201, "browser connect: \(connect.text)")
            default:
                let token = try #require(join.object["login_token"] as? String)
                let clientState = try #require((join.object["call_options"] as? [String: Any])?["client_state"] as? String)
                #expect(join.object["access_token"] == nil)
                let connect = try await LiveStack.request(
                    .POST, "http://127.0.0.1:\(stack.simulator.port)/telnyx/_sim/webrtc-calls",
                    json: ["login_token": token, "destination_number": "conference", "client_state": clientState])
                #expect(connect.status == 201, "browser connect: \(connect.text)")
            }
            status = try await waitForStatus(stack, conferenceID, "the agent to join") {
                Self.joined($0, role: "agent") != nil && $0["status"] as? String == "in-progress"
            }
            let agent = try #require(Self.joined(status, role: "agent"))
            let contactLeg = try #require(Self.joined(status, role: "contact"))
            #expect(agent["client_id"] as? String == "agent-7")
            let agentID = try #require(agent["participant_id"] as? String)
            let contactParticipantID = try #require(contactLeg["participant_id"] as? String)

            // Mute, unmute, hold, unhold: the stored state follows the provider's confirmation.
            let steps: [(String, String, String, Bool)] = [
                ("mute", agentID, "muted", true), ("unmute", agentID, "muted", false),
                ("hold", contactParticipantID, "on_hold", true), ("unhold", contactParticipantID, "on_hold", false),
            ]
            for (action, participant, field, expected) in steps {
                let control = try await send(
                    .POST, "/api/v1/cold-call/control/\(action)",
                    json: ["conference_id": conferenceID, "participant_id": participant])
                #expect(control.status == 202, "\(action): \(control.text)")
                #expect(control.object["state"] as? String == (provider == .twilio ? "requested" : "confirmed"))
                _ = try await waitForStatus(stack, conferenceID, "\(action) to be confirmed") { status in
                    (status["participants"] as? [[String: Any]] ?? []).contains {
                        $0["participant_id"] as? String == participant && $0[field] as? Bool == expected
                    }
                }
            }

            // End: the conference completes and every leg leaves; ending again is a no-op.
            let end = try await send(.POST, "/api/v1/cold-call/end", json: ["conference_id": conferenceID])
            #expect(end.status == 200, "\(end.text)")
            status = try await waitForStatus(stack, conferenceID, "the end") { status in
                status["status"] as? String == "completed"
                    && (status["participants"] as? [[String: Any]] ?? []).allSatisfy { $0["left_at"] != nil }
            }
            #expect((status["duration_seconds"] as? Int).map { $0 >= 0 } == true)
            let again = try await send(.POST, "/api/v1/cold-call/end", json: ["conference_id": conferenceID])
            #expect(again.status == 200)
            #expect(again.object["status"] as? String == "completed")

            // The recording arrives on the contact's call; the agent logs the outcome.
            var entry: [String: Any] = [:]
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(15) {
                let log = try await send(.GET, "/api/v1/cold-call/calls")
                entry = (log.object["calls"] as? [[String: Any]])?.first { $0["call_id"] as? String == callID } ?? [:]
                if entry["recording_url"] != nil, entry["status"] as? String == "completed" { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect((entry["recording_url"] as? String)?.hasPrefix("https://") == true, "\(entry)")
            #expect((entry["recording_duration_seconds"] as? Int).map { $0 >= 0 } == true)
            let outcome = try await send(
                .POST, "/api/v1/cold-call/calls/\(callID)/outcome",
                json: ["outcome": "callback_requested", "notes": "wants a demo", "callback_at": "2026-12-01T15:00:00Z"])
            #expect(outcome.status == 200, "\(outcome.text)")
            let log = try await send(.GET, "/api/v1/cold-call/calls?outcome=callback_requested")
            let logged = try #require((log.object["calls"] as? [[String: Any]])?.first)
            #expect(logged["call_id"] as? String == callID)
            #expect(logged["contact_id"] as? String == contactID)
            #expect(logged["contact_name"] as? String == "Lovelace, Ada")
            #expect(logged["outcome"] as? String == "callback_requested")
            #expect(logged["notes"] as? String == "wants a demo")
            #expect(logged["callback_at"] as? String == "2026-12-01T15:00:00Z")
            #expect(logged["agent_client_id"] as? String == "agent-7")
            #expect(logged["recording_url"] as? String == entry["recording_url"] as? String)
            #expect(logged["status"] as? String == "completed")
            let audit = try await stack.send(.GET, "/api/v1/organizations/acme/audit-events", key: stack.harness.acmeAdmin)
            let events = audit.object["events"] as? [[String: Any]] ?? audit.object["audit_events"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "call.outcome" && $0["target"] as? String == callID }, "\(audit.text)")
            #expect(!audit.text.contains("wants a demo"))
            try await expectColdCallAudit(
                stack, provider: provider, conferenceID: conferenceID, callID: callID, contactID: contactID,
                participants: [agentID, contactParticipantID])

            // Exactly one provider conference was created for the session.
            let requests = stack.simulator.requests()
            switch provider {
            case .twilio:
                let conferences = stack.simulator.conferences().filter { $0.name == "sb-\(conferenceID)" }
                #expect(conferences.count == 1)
                #expect(conferences.first?.status == "completed")
            default:
                #expect(requests.filter { $0.method == "POST" && $0.path.hasSuffix("/v2/conferences") }.count == 1)
                #expect(requests.filter { $0.method == "POST" && $0.path.hasSuffix("/actions/join") }.count == 1)
            }

            // No response and no log line carries a stored secret (or the SIP password Telnyx minted).
            let secrets = stack.secrets + stack.simulator.telnyxCredentials().map(\.sipPassword)
            for text in transcript.texts.withLock({ $0 }) + stack.logs.all {
                for secret in secrets where !secret.isEmpty {
                    #expect(!text.contains(secret), "a secret appeared in: \(text.prefix(200))")
                }
            }
        }
    }

    /// One audit event per cold-call action of the flow (the second `end`, a no-op, writes none), each
    /// naming the service key that acted, with ids and the provider only: no number, no secret.
    func expectColdCallAudit(
        _ stack: LiveStack, provider: ProviderName, conferenceID: String, callID: String, contactID: String,
        participants: [String]
    ) async throws {
        let postgres = stack.harness.postgres
        let organizationID = stack.harness.acme.id
        var all: [AuditRow] = []
        for action in ["cold_call.initiate", "cold_call.join", "cold_call.control", "cold_call.end"] {
            let rows = try await AuditRow.all(postgres, organizationID: organizationID, action: action)
            #expect(rows.count == (action == "cold_call.control" ? 4 : 1), "\(action): \(rows.map(\.detailsText))")
            for row in rows {
                #expect(row.actorType == "api_key" && row.keyRole == "service" && row.keyOrganizationID == organizationID)
                #expect(row.target == conferenceID)
                #expect(row.details["provider"] == provider.rawValue)
            }
            all += rows
        }
        let initiate = try #require(
            try await AuditRow.all(postgres, organizationID: organizationID, action: "cold_call.initiate").first)
        #expect(
            initiate.details == ["provider": provider.rawValue, "call_id": callID, "contact_id": contactID, "result": "ok"])
        let controls = try await AuditRow.all(postgres, organizationID: organizationID, action: "cold_call.control")
        #expect(controls.map { $0.details["action"] } == ["mute", "unmute", "hold", "unhold"])
        let expected = [participants[0], participants[0], participants[1], participants[1]]
        #expect(controls.map { $0.details["participant_id"] } == expected)
        #expect(controls.allSatisfy { $0.details["state"] == (provider == .twilio ? "requested" : "confirmed") })
        let fromNumbers = stack.accounts.twilio.flatMap(\.numbers) + stack.accounts.telnyx.flatMap(\.numbers)
        for row in all {
            for forbidden in [Self.contactPhone, "agent-7"] + fromNumbers + stack.secrets where !forbidden.isEmpty {
                #expect(!row.detailsText.contains(forbidden), "\(row.detailsText)")
            }
        }
    }

    // MARK: - The agent hangs up

    /// Telnyx: the agent's leg joins with `end_conference_on_exit`, so when the browser hangs up, Telnyx
    /// hangs up the contact too and ends the conference. Switchboard follows from those events alone:
    /// the session completes, every participant leaves and the contact's call ends — without
    /// `/cold-call/end` and without Switchboard asking Telnyx to hang up or end anything.
    @Test func anAgentWhoHangsUpEndsTheTelnyxSessionThroughProviderEventsAlone() async throws {
        try await LiveStack.run(settings: Self.settings) { stack in
            try await configureColdCalls(stack, .telnyx)
            let initiated = try await stack.send(
                .POST, "/api/v1/cold-call/initiate", key: stack.harness.acmeService, json: ["to_phone": Self.contactPhone])
            #expect(initiated.status == 201, "\(initiated.text)")
            let conferenceID = try #require(initiated.object["conference_id"] as? String)
            let callID = try #require(initiated.object["call_id"] as? String)
            _ = try await waitForStatus(stack, conferenceID, "the contact to join") {
                Self.joined($0, role: "contact") != nil && $0["status"] as? String == "in-progress"
            }
            let join = try await stack.send(
                .POST, "/api/v1/cold-call/webrtc-join", key: stack.harness.acmeService,
                json: ["conference_id": conferenceID, "client_id": "agent-7"])
            #expect(join.status == 200, "\(join.text)")
            let token = try #require(join.object["login_token"] as? String)
            let clientState = try #require((join.object["call_options"] as? [String: Any])?["client_state"] as? String)
            let simulator = "http://127.0.0.1:\(stack.simulator.port)/telnyx/_sim/webrtc-calls"
            let connect = try await LiveStack.request(
                .POST, simulator,
                json: ["login_token": token, "destination_number": "conference", "client_state": clientState])
            #expect(connect.status == 201, "browser connect: \(connect.text)")
            let agentLeg = try #require(connect.object["call_control_id"] as? String)
            _ = try await waitForStatus(stack, conferenceID, "the agent to join") {
                Self.joined($0, role: "agent") != nil && $0["status"] as? String == "in-progress"
            }
            let before = stack.simulator.requests().count

            // The browser hangs up.
            let hangup = try await LiveStack.request(
                .POST, "\(simulator)/\(agentLeg.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? agentLeg)/hangup")
            #expect(hangup.status == 200, "\(hangup.text)")
            let status = try await waitForStatus(stack, conferenceID, "the session to end") { status in
                status["status"] as? String == "completed"
                    && (status["participants"] as? [[String: Any]] ?? []).allSatisfy { $0["left_at"] != nil }
            }
            #expect(status["status"] as? String == "completed")
            var entry: [String: Any] = [:]
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(15) {
                let log = try await stack.send(.GET, "/api/v1/cold-call/calls", key: stack.harness.acmeService)
                entry = (log.object["calls"] as? [[String: Any]])?.first { $0["call_id"] as? String == callID } ?? [:]
                if (entry["status"] as? String).flatMap(CallStatus.init(rawValue:))?.isTerminal == true { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(entry["status"] as? String == "completed", "\(entry)")
            // Nothing but the provider ended it: Switchboard sent no hang-up and no conference end.
            let after = stack.simulator.requests().dropFirst(before)
                .filter { $0.path.contains("/actions/hangup") || $0.path.contains("/actions/end") }
            #expect(after.isEmpty, "\(after.map { "\($0.method) \($0.path)" })")
        }
    }

    // MARK: - Two legs answered at once, on two instances

    @Test func twoLegsAnsweredAtOnceOnTwoInstancesCreateOneConference() async throws {
        try await LiveStack.run(settings: Self.settings) { stack in
            try await configureColdCalls(stack, .telnyx)
            let account = try #require(stack.accounts.telnyx.first)
            let harness = stack.harness
            let organizationID = harness.acme.id
            let conference = try await harness.dependencies.conferences.create(
                organizationID: organizationID,
                NewConference(
                    provider: "telnyx", contactID: nil, contactName: nil, contactPhone: Self.contactPhone,
                    fromNumber: account.numbers[0], createdBy: nil),
                logger: TestDatabase.logger)

            // Two legs dialed straight at the simulator, whose own events are dropped: the test
            // delivers their call.answered events itself, at the same moment, to two instances.
            var legs: [String] = []
            for to in [Self.contactPhone, "+14155550124"] {
                let dialed = try await LiveStack.request(
                    .POST, "\(stack.simulator.baseURLs.telnyx)/calls", key: account.apiKey,
                    json: [
                        "connection_id": account.connectionIDs[0], "to": to, "from": account.numbers[0],
                        // Answered at once and ignored (a closed port would stall delivery on connect retries).
                        "webhook_url": stack.baseURL + "/healthz",
                    ])
                #expect(dialed.status == 200, "\(dialed.text)")
                legs.append(try #require((dialed.object["data"] as? [String: Any])?["call_control_id"] as? String))
            }
            try await Task.sleep(for: .milliseconds(600))  // ring 50 ms + answer 100 ms, with room for a busy machine

            let tokens = harness.dependencies.coldCalls
            let events: [[UInt8]] = try zip(legs, [ConferenceToken.Role.contact, .agent]).map { leg, role in
                let state = tokens.signedToken(
                    organizationID: organizationID, conferenceID: conference.id, role: role,
                    clientID: role == .agent ? "agent-7" : "")
                return Array(
                    try JSONSerialization.data(withJSONObject: [
                        "data": [
                            "record_type": "event", "event_type": "call.answered", "id": UUID().uuidString.lowercased(),
                            "occurred_at": "2026-11-21T08:00:00Z",
                            "payload": [
                                "call_control_id": leg, "client_state": Data(state.utf8).base64EncodedString(),
                                "connection_id": account.connectionIDs[0], "state": "answered",
                            ],
                        ],
                        "meta": ["attempt": 1],
                    ]))
            }
            func signed(_ body: [UInt8]) throws -> [(String, String)] {
                let timestamp = String(Int(Date().timeIntervalSince1970))
                let signature = try account.webhookSigningKey.signature(for: Data((timestamp + "|").utf8) + Data(body))
                return [
                    ("telnyx-signature-ed25519", Data(signature).base64EncodedString()), ("telnyx-timestamp", timestamp),
                ]
            }
            let path = "/api/v1/telephony/webhooks/telnyx/\(organizationID.lowercasedString)/cold-call/events"

            // Instance B: its own dependencies (pool, provider cache) on the same database and master keys.
            let second = try AppDependencies.forTesting(
                postgres: harness.postgres, configuration: stack.configuration, keyring: harness.keyring)
            let instanceB = Application(router: buildRouter(second))
            let headersA = try signed(events[0])
            let headersB = try signed(events[1])
            try await instanceB.test(.router) { client in
                async let first = LiveStack.request(
                    .POST, stack.baseURL + path, raw: ("application/json", String(decoding: events[0], as: UTF8.self)),
                    headers: headersA)
                var fields = HTTPFields()
                fields[.contentType] = "application/json"
                for (name, value) in headersB { fields[HTTPField.Name(name)!] = value }
                let secondResponse = try await client.execute(
                    uri: path, method: .post, headers: fields, body: ByteBuffer(bytes: events[1]))
                let firstResponse = try await first
                #expect(firstResponse.status == 204, "instance A: \(firstResponse.text)")
                #expect(secondResponse.status == .noContent, "instance B: \(String(buffer: secondResponse.body))")
            }

            let requests = stack.simulator.requests()
            #expect(
                requests.filter { $0.method == "POST" && $0.path.hasSuffix("/v2/conferences") }.count == 1,
                "\(requests.filter { $0.path.contains("/conferences") }.map { "\($0.path) \($0.status) \($0.bodyText)" })")
            #expect(requests.filter { $0.method == "POST" && $0.path.hasSuffix("/actions/join") }.count == 1)
            let stored = try #require(
                try await harness.dependencies.conferences.get(
                    organizationID: organizationID, id: conference.id, logger: TestDatabase.logger))
            #expect(stored.providerConferenceID != nil)
            let participants = try await harness.dependencies.conferences.participants(
                organizationID: organizationID, conferenceID: conference.id, logger: TestDatabase.logger)
            #expect(Set(participants.map(\.providerCallID)) == Set(legs))
            #expect(Set(participants.map(\.role)) == ["contact", "agent"])
            #expect(stack.simulator.conferences().filter { $0.name == stored.name }.count == 1)
        }
    }

    // MARK: - Refusals

    @Test func aForgedAgentTokenIsNotAdmittedToTheConference() async throws {
        try await LiveStack.run(settings: Self.settings) { stack in
            try await configureColdCalls(stack, .twilio)
            let initiated = try await stack.send(
                .POST, "/api/v1/cold-call/initiate", key: stack.harness.acmeService, json: ["to_phone": Self.contactPhone])
            #expect(initiated.status == 201, "\(initiated.text)")
            let conferenceID = try #require(initiated.object["conference_id"] as? String)
            _ = try await waitForStatus(stack, conferenceID, "the contact to join") { Self.joined($0, role: "contact") != nil }
            // A browser with a valid Access Token for the account, but a conference token it made up.
            let account = try #require(stack.accounts.twilio.first)
            let key = try #require(account.apiKeys.first)
            let application = try #require(account.applications.first)
            var document = try TwilioConfiguration(document: [
                "account_sid": .string(account.accountSID), "auth_token": .string(account.authToken),
                "from_numbers": .array(account.numbers.map(JSONValue.string)), "api_key_sid": .string(key.sid),
                "api_key_secret": .string(key.secret), "twiml_app_sid": .string(application.sid),
            ])
            document.fromNumbers = account.numbers
            let forged = "cc1|\(stack.harness.acme.id.lowercasedString)|\(conferenceID)|agent|mallory|9999999999|AAAA"
            let token = try await TwilioAccessToken.issue(
                configuration: document, identity: "mallory", params: ["conference_token": forged], ttl: 600)
            let connect = try await LiveStack.request(
                .POST, "http://127.0.0.1:\(stack.simulator.port)/twilio/_sim/client-calls",
                json: ["access_token": token, "params": [String: String]()])
            #expect(connect.status == 201, "\(connect.text)")
            try await Task.sleep(for: .milliseconds(500))
            let status = try await stack.send(
                .GET, "/api/v1/cold-call/status/\(conferenceID)", key: stack.harness.acmeService)
            #expect(Self.participants(status.object, role: "agent").isEmpty, "\(status.text)")
            let fetch = try #require(stack.simulator.twimlFetches().last)
            #expect(fetch.responseBody.contains("<Hangup/>"))
        }
    }

    @Test func aConferenceGoneAtTheProviderIsA409AndAProviderFailureA502() async throws {
        try await LiveStack.run(settings: Self.settings) { stack in
            try await configureColdCalls(stack, .twilio)
            let store = stack.harness.dependencies.conferences
            let organizationID = stack.harness.acme.id
            // A session the provider no longer knows: its conference id was never Twilio's.
            let conference = try await store.create(
                organizationID: organizationID,
                NewConference(
                    provider: "twilio", contactID: nil, contactName: nil, contactPhone: Self.contactPhone,
                    fromNumber: try #require(stack.accounts.twilio.first?.numbers.first), createdBy: nil),
                logger: TestDatabase.logger)
            _ = try await store.apply(
                ConferenceEventRecord(
                    provider: "twilio", eventKey: "gone-1", kind: .participantJoined, conferenceID: conference.id,
                    providerConferenceID: "CF" + String(repeating: "0", count: 32), providerCallID: "CA" + String(repeating: "1", count: 32),
                    muted: false, onHold: false, sequence: 1, occurredAt: Date(), payload: Data()),
                organizationID: organizationID, logger: TestDatabase.logger)
            let participant = try #require(
                try await store.participants(organizationID: organizationID, conferenceID: conference.id, logger: TestDatabase.logger).first)
            let body: [String: Any] = [
                "conference_id": conference.id.lowercasedString, "participant_id": participant.id.lowercasedString,
            ]
            let gone = try await stack.send(.POST, "/api/v1/cold-call/control/mute", key: stack.harness.acmeService, json: body)
            #expect(gone.status == 409, "\(gone.text)")
            #expect((gone.object["error"] as? [String: Any])?["code"] as? String == "conference_gone")

            stack.simulator.update(settings: CallScenarioSettings(talkTime: .seconds(60), apiFault: .serverError))
            let failed = try await stack.send(.POST, "/api/v1/cold-call/control/hold", key: stack.harness.acmeService, json: body)
            #expect(failed.status == 502, "\(failed.text)")
            #expect((failed.object["error"] as? [String: Any])?["code"] as? String == "provider_error")
            #expect(failed.text.contains("twilio"))
            let after = try #require(
                try await store.participants(organizationID: organizationID, conferenceID: conference.id, logger: TestDatabase.logger).first)
            #expect(!after.muted && !after.onHold)
            // Neither refused control is audited.
            #expect(try await AuditRow.count(stack.harness.postgres, organizationID: organizationID, prefix: "cold_call.") == 0)
        }
    }
}
