import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProviderSimulators
import Providers
import TestSupport
import Testing

@testable import App

/// Webhooks shaped as the providers' published definitions say, through the real routes: nothing
/// the providers send is refused or dropped without a trace.
@Suite(.serialized) struct ProviderFidelityRoutesTests {
    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
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

    /// Vonage's webhook reference: input, transfer, record, error and notify events have no `status`.
    /// They are acknowledged (2xx), never answered 400; those of a call of the organization are stored
    /// (a retry not twice), those naming only a conversation no call of it has are stored nowhere
    /// (issue 10, item 12).
    @Test func vonageEventsWithoutStatusAreAcknowledgedAndStored() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.vonage)
            let placed = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"])
            let callID = try #require(placed.object["call_id"] as? String)
            _ = try await stack.waitForEnd(of: callID)
            let genuine = try #require(
                stack.simulator.webhooks().last { $0.provider == "vonage" && $0.url.hasSuffix("/status") })
            let uuid = try #require(
                ((try? JSONSerialization.jsonObject(with: Data(genuine.body))) as? [String: Any])?["uuid"] as? String)
            let secret = try #require(stack.accounts.vonage.first).signatureSecret
            let bodies = [
                #"{"dtmf":{"digits":"1234","timed_out":true},"speech":{"results":[]},"from":"15551234567","to":"15557654321","uuid":"\#(uuid)","conversation_uuid":"CON-1","timestamp":"2020-01-01T14:00:00.123Z"}"#,
                #"{"conversation_uuid_from":"CON-1","conversation_uuid_to":"CON-2","uuid":"\#(uuid)","timestamp":"2020-01-01T14:00:01.000Z"}"#,
                #"{"start_time":"2020-01-01T12:00:00Z","end_time":"2020-01-01T12:01:00Z","recording_url":"https://api.nexmo.com/v1/files/aaaa","size":12222,"recording_uuid":"aaaa","conversation_uuid":"CON-1","timestamp":"2020-01-01T14:00:02.000Z"}"#,
                #"{"reason":"Syntax error in NCCO","conversation_uuid":"CON-1","timestamp":"2020-01-01T14:00:03.000Z"}"#,
            ]
            let before = try await count(stack, "SELECT count(*)::int FROM webhook_events")
            for text in bodies {
                let body = Array(text.utf8)
                let headers = [
                    ("Content-Type", "application/json"),
                    ("Authorization", "Bearer " + Self.vonageToken(body: body, secret: secret)),
                ]
                #expect(try await post(genuine.url, headers: headers, body: body) / 100 == 2, "\(text)")
                // The provider's retry of the same event is acknowledged and not stored again.
                #expect(try await post(genuine.url, headers: headers, body: body) / 100 == 2)
            }
            #expect(try await count(stack, "SELECT count(*)::int FROM webhook_events") == before + 2)
            let kinds = try await stack.harness.postgres.query(
                "SELECT raw_status FROM webhook_events WHERE provider = 'vonage' ORDER BY received_at, event_key",
                logger: TestDatabase.logger)
            var raw: [String] = []
            for try await value in kinds.decode(String?.self) { raw.append(value ?? "") }
            #expect(Array(raw.suffix(2)) == ["input", "transfer"])
            // The call's own state is untouched by them.
            let call = try await stack.send(.GET, "/api/v1/telephony/calls/\(callID)", key: stack.harness.acmeService)
            #expect(call.object["status"] as? String == "completed")
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
