import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProviderSimulators
import TestSupport
import Testing

@testable import App
@testable import Providers

/// Webhooks shaped as the providers' published definitions say, through the real routes: nothing
/// the providers send is refused or dropped without a trace.
@Suite(.serialized) struct ProviderFidelityRoutesTests {
    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    func count(_ stack: LiveStack, _ sql: String) async throws -> Int {
        let rows = try await stack.harness.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        return count
    }

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Vonage's signed-webhook token: HS256 over the claims, `payload_hash` = SHA-256 of the body.
    static func vonageToken(body: [UInt8], secret: String) -> String {
        let hash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let claims =
            #"{"iss":"Vonage","iat":\#(Int(Date().timeIntervalSince1970)),"jti":"\#(UUID().uuidString)","payload_hash":"\#(hash)"}"#
        let signingInput = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + base64URL(Data(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return signingInput + "." + base64URL(Data(mac))
    }

    /// `Tests/Fixtures/Published/<path>` as text.
    static func fixture(_ path: String) throws -> String {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: tests.appendingPathComponent("Fixtures/Published/\(path)"), encoding: .utf8)
    }

    func strings(_ stack: LiveStack, _ sql: String) async throws -> [String] {
        let rows = try await stack.harness.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
        var values: [String] = []
        for try await value in rows.decode(String?.self) { values.append(value ?? "") }
        return values
    }

    /// Vonage's webhook reference: input, transfer, record, error and notify events have no `status`.
    /// They are acknowledged (2xx), never answered 400; those of a call of the organization are stored
    /// (a retry not twice), those naming only a conversation no call of it has are stored nowhere
    /// (issue 10, item 12). The transfer event is the simulator's own (a transfer through the Voice
    /// API); the simulator runs no NCCO, so input, record and error are the reference's examples, signed here.
    @Test func vonageEventsWithoutStatusAreAcknowledgedAndStored() async throws {
        try await LiveStack.run(settings: CallScenarioSettings(talkTime: .seconds(60))) { stack in
            try await stack.configure(.vonage)
            let placed = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"])
            let callID = try #require(placed.object["call_id"] as? String)
            func callStatus() async throws -> String? {
                try await stack.send(.GET, "/api/v1/telephony/calls/\(callID)", key: stack.harness.acmeService)
                    .object["status"] as? String
            }
            var answered = false
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(15), !answered {
                answered = try await callStatus() == "in-progress"
                if !answered { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(answered)
            let genuine = try #require(
                stack.simulator.webhooks().last { $0.provider == "vonage" && $0.url.hasSuffix("/status") })
            let uuid = try #require(
                ((try? JSONSerialization.jsonObject(with: Data(genuine.body))) as? [String: Any])?["uuid"] as? String)
            let before = try await count(stack, "SELECT count(*)::int FROM webhook_events")

            // Transfer the call through the Voice API: the simulator sends Vonage's status-less transfer event.
            let account = try #require(stack.accounts.vonage.first)
            let vonage = VonageProvider(
                configuration: try VonageConfiguration(document: [
                    "api_key": .string(account.apiKey), "api_secret": .string(account.apiSecret),
                    "application_id": .string(account.applicationID), "private_key": .string(stack.vonagePrivateKeyPEM),
                    "signature_secret": .string(account.signatureSecret),
                    "from_numbers": .array(account.numbers.prefix(2).map(JSONValue.string)),
                ]), previous: nil, previousValidUntil: nil, http: ProviderHTTPClient(client: .shared),
                baseURL: stack.simulator.baseURLs.vonage, restBaseURL: stack.simulator.baseURLs.vonageRest)
            _ = try await vonage.send(
                .put, "/v1/calls/\(uuid)",
                json: ["action": "transfer", "destination": ["type": "ncco", "ncco": [["action": "talk", "text": "moved"]]]],
                logger: TestDatabase.logger)
            var transfer: DeliveredWebhook?
            let waited = ContinuousClock.now
            while ContinuousClock.now - waited < .seconds(10), transfer == nil {
                transfer = stack.simulator.webhooks().first { $0.provider == "vonage" && $0.bodyText.contains("conversation_uuid_from") }
                if transfer == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let delivered = try #require(transfer, "the simulator sent no transfer event")
            #expect(delivered.responseStatus.map { (200..<300).contains($0) } == true, "\(String(describing: delivered.responseStatus))")
            #expect(delivered.url == genuine.url)
            // The provider's retry of the same event is acknowledged and not stored again.
            #expect(
                try await post(delivered.url, headers: delivered.headers.map { ($0.key, $0.value) }, body: delivered.body) / 100 == 2)

            let secret = account.signatureSecret
            let examples = try ["vonage/event.input.json", "vonage/event.recording.json", "vonage/event.error.json"].map {
                try Self.fixture($0).replacingOccurrences(of: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", with: uuid)
            }
            for text in examples {
                let body = Array(text.utf8)
                let headers = [
                    ("Content-Type", "application/json"),
                    ("Authorization", "Bearer " + Self.vonageToken(body: body, secret: secret)),
                ]
                #expect(try await post(genuine.url, headers: headers, body: body) / 100 == 2, "\(text)")
                #expect(try await post(genuine.url, headers: headers, body: body) / 100 == 2)
            }
            // transfer and input name the call; record and error name only a conversation no call has.
            #expect(try await count(stack, "SELECT count(*)::int FROM webhook_events") == before + 2)
            let raw = try await strings(
                stack, "SELECT raw_status FROM webhook_events WHERE provider = 'vonage' ORDER BY received_at, event_key")
            #expect(Array(raw.suffix(2)) == ["transfer", "input"])
            // The call's own state is untouched by them.
            #expect(try await callStatus() == "in-progress")
        }
    }

    /// A signed Telnyx event to one of Switchboard's Telnyx webhook routes.
    func postTelnyx(_ stack: LiveStack, _ text: String, route: String) async throws -> Int {
        let account = try #require(stack.accounts.telnyx.first)
        let body = Array(text.utf8)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature = try account.webhookSigningKey.signature(for: Array("\(timestamp)|".utf8) + body)
        let url = "\(stack.baseURL)/api/v1/telephony/webhooks/telnyx/\(stack.harness.acme.id.uuidString.lowercased())/\(route)"
        let headers = [
            ("Content-Type", "application/json"), ("telnyx-timestamp", timestamp),
            ("telnyx-signature-ed25519", Data(signature).base64EncodedString()),
        ]
        return try await post(url, headers: headers, body: body)
    }

    /// telnyx-python's `call.recording.saved` (no `call_control_id`), with `client_state` null.
    static func telnyxRecordingSaved(eventID: String, legID: String, connectionID: String, url: String) -> String {
        #"""
        {"data":{"record_type":"event","event_type":"call.recording.saved","id":"\#(eventID)","occurred_at":"2018-02-02T22:25:27.521992Z","payload":{"call_leg_id":"\#(legID)","call_session_id":"\#(UUID().uuidString.lowercased())","channels":"single","client_state":null,"connection_id":"\#(connectionID)","public_recording_urls":{"mp3":null,"wav":null},"recording_ended_at":"2018-02-02T22:25:26.913507Z","recording_started_at":"2018-02-02T22:20:27.521992Z","recording_urls":{"mp3":"\#(url)","wav":null}}},"meta":{"attempt":1,"delivered_to":"x"}}
        """#
    }

    /// A recording that names only the leg (`call_leg_id`, no client state, no call control id)
    /// attaches to the call whose events reported that leg.
    @Test func aTelnyxRecordingMatchedByItsLegAloneAttaches() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.telnyx)
            let placed = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"])
            let callID = try #require(placed.object["call_id"] as? String)
            _ = try await stack.waitForEnd(of: callID)
            let legs = try await strings(stack, "SELECT provider_leg_id FROM calls WHERE id = '\(callID)'")
            let leg = try #require(legs.first.flatMap { $0.isEmpty ? nil : $0 }, "the simulator's events named no leg")
            let account = try #require(stack.accounts.telnyx.first)
            let eventID = UUID().uuidString.lowercased()
            let text = Self.telnyxRecordingSaved(
                eventID: eventID, legID: leg, connectionID: account.connectionIDs[0], url: "https://example.com/leg.mp3")
            #expect(try await postTelnyx(stack, text, route: "cold-call/events") / 100 == 2)
            #expect(
                try await strings(stack, "SELECT recording_url FROM calls WHERE id = '\(callID)'") == ["https://example.com/leg.mp3"])
            #expect(!stack.logs.all.contains { $0.contains("recording event matches no call") })
        }
    }

    /// The ordinary status route reads a Telnyx event without `call_control_id` (telnyx-python's
    /// `call.recording.saved`) instead of answering 400; one that matches no call of the organization
    /// is acknowledged, logged and stored nowhere (issue 10, item 12), on a retry too.
    @Test func aTelnyxEventWithoutCallControlIDIsAcknowledgedNotRefused() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.telnyx)
            let account = try #require(stack.accounts.telnyx.first)
            let eventID = UUID().uuidString.lowercased()
            let text = Self.telnyxRecordingSaved(
                eventID: eventID, legID: UUID().uuidString.lowercased(), connectionID: account.connectionIDs[0],
                url: "https://example.com/r.mp3")
            #expect(try await postTelnyx(stack, text, route: "status") == 204)
            #expect(try await postTelnyx(stack, text, route: "status") == 204)
            #expect(try await count(stack, "SELECT count(*)::int FROM webhook_events WHERE event_key = '\(eventID)'") == 0)
            #expect(stack.logs.all.contains { $0.contains("webhook for no call of this organization") })
            // A call event without it on the cold-call route is acknowledged too, and changes nothing.
            let hangupID = UUID().uuidString.lowercased()
            let hangup = #"""
                {"data":{"record_type":"event","event_type":"call.hangup","id":"\#(hangupID)","occurred_at":"2018-02-02T22:25:27.521992Z","payload":{"call_leg_id":"\#(UUID().uuidString.lowercased())","call_session_id":"\#(UUID().uuidString.lowercased())","client_state":null,"connection_id":"\#(account.connectionIDs[0])","hangup_cause":"normal_clearing","hangup_source":"caller","sip_hangup_cause":"16"}}}
                """#
            #expect(try await postTelnyx(stack, hangup, route: "cold-call/events") / 100 == 2)
            #expect(try await count(stack, "SELECT count(*)::int FROM webhook_events WHERE event_key = '\(hangupID)'") == 0)
        }
    }

    /// telnyx-python's `call.recording.saved` names the leg, not the call control id. One that
    /// matches no call of the organization is acknowledged, logged and counted — never dropped
    /// silently — and stored nowhere (issue 10, item 12: it may be another tenant's).
    @Test func anUnmatchedTelnyxRecordingIsLoggedCountedAndNotStored() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.telnyx)
            let account = try #require(stack.accounts.telnyx.first)
            let eventID = UUID().uuidString.lowercased()
            let text = #"""
                {"data":{"record_type":"event","event_type":"call.recording.saved","id":"\#(eventID)","occurred_at":"2018-02-02T22:25:27.521992Z","payload":{"call_leg_id":"\#(UUID().uuidString.lowercased())","call_session_id":"\#(UUID().uuidString.lowercased())","channels":"single","client_state":null,"connection_id":"\#(account.connectionIDs[0])","public_recording_urls":{"mp3":null,"wav":null},"recording_ended_at":"2018-02-02T22:25:26.913507Z","recording_started_at":"2018-02-02T22:20:27.521992Z","recording_urls":{"mp3":"https://example.com/r.mp3","wav":null}}},"meta":{"attempt":1,"delivered_to":"x"}}
                """#
            let body = Array(text.utf8)
            let timestamp = String(Int(Date().timeIntervalSince1970))
            let signature = try account.webhookSigningKey.signature(for: Array("\(timestamp)|".utf8) + body)
            let url = "\(stack.baseURL)/api/v1/telephony/webhooks/telnyx/\(stack.harness.acme.id.uuidString.lowercased())/cold-call/events"
            let headers = [
                ("Content-Type", "application/json"), ("telnyx-timestamp", timestamp),
                ("telnyx-signature-ed25519", Data(signature).base64EncodedString()),
            ]
            #expect(try await post(url, headers: headers, body: body) / 100 == 2)
            #expect(
                try await count(stack, "SELECT count(*)::int FROM webhook_events WHERE event_key = '\(eventID)'") == 0)
            #expect(stack.logs.all.contains { $0.contains("recording event matches no call") && $0.contains(eventID) })
            let metrics = try await stack.send(.GET, "/metrics")
            #expect(
                metrics.text.contains(#"switchboard_webhook_unmatched_events_total{kind="recording",provider="telnyx"} 1"#)
                    || metrics.text.contains(#"switchboard_webhook_unmatched_events_total{provider="telnyx",kind="recording"} 1"#),
                "\(metrics.text.split(separator: "\n").filter { $0.contains("unmatched") })")
        }
    }
}
