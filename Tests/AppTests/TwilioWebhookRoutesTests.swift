import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import Providers
import TestSupport
import Testing

@testable import App

/// Twilio status and answer webhooks through the real routes, signed the way Twilio signs them.
@Suite struct TwilioWebhookRoutesTests {
    static let publicURL = "https://switchboard.example.com"
    static let callSID = "CA0123456789abcdef0123456789abcdef"

    static var configuration: AppConfiguration {
        var configuration = AppConfiguration()
        configuration.publicURL = publicURL
        return configuration
    }

    var statusPath: String { "/api/v1/telephony/webhooks/twilio/acme/status" }

    /// Stores Acme's Twilio configuration and a placed call.
    func prepare(
        _ harness: AppHarness, _ client: some TestClientProtocol, workflowID: String? = nil, workflowRunID: String? = nil
    ) async throws -> UUID {
        let put = try await client.send(
            .put, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION", key: harness.acmeAdmin,
            json: AppHarness.twilioDocument)
        #expect(put.status == .created)
        let begin = try await harness.dependencies.calls.begin(
            organizationID: harness.acme.id,
            call: NewCall(
                provider: "twilio", fromNumber: "+14155550100", toNumber: "+14155550123", workflowID: workflowID,
                workflowRunID: workflowRunID, idempotencyKey: nil, requestHash: "h", createdBy: nil),
            logger: TestDatabase.logger)
        guard case .started(let call) = begin else { throw CancellationError() }
        _ = try await harness.dependencies.calls.markPlaced(
            organizationID: harness.acme.id, id: call.id, providerCallID: Self.callSID, status: "queued",
            rawStatus: "queued", logger: TestDatabase.logger)
        return call.id
    }

    func statusForm(_ status: String, sequence: Int) -> [(String, String)] {
        [
            ("AccountSid", AppHarness.Secrets.twilioAccountSID), ("CallSid", Self.callSID), ("CallStatus", status),
            ("From", "+14155550100"), ("To", "+14155550123"), ("SequenceNumber", String(sequence)),
        ] + (status == "completed" ? [("CallDuration", "42")] : [])
    }

    func post(
        _ client: some TestClientProtocol, _ path: String, form: [(String, String)], token: String?,
        signatureOverride: String? = nil
    ) async throws -> TestResponse {
        let body = form.map { "\(ProviderHTTPClientEscape.form($0.0))=\(ProviderHTTPClientEscape.form($0.1))" }
            .joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let token {
            headers[HTTPField.Name("X-Twilio-Signature")!] =
                signatureOverride ?? TwilioSignature.compute(authToken: token, url: Self.publicURL + path, parameters: form)
        }
        return try await client.send(.post, path, raw: body, headers: headers)
    }

    func callStatus(_ harness: AppHarness, _ id: UUID) async throws -> Call? {
        try await harness.dependencies.calls.get(organizationID: harness.acme.id, id: id, logger: TestDatabase.logger)
    }

    func storedEvents(_ harness: AppHarness) async throws -> Int {
        let rows = try await harness.postgres.query("SELECT count(*) FROM webhook_events", logger: TestDatabase.logger)
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        return count
    }

    @Test func signedStatusCallbacksMoveTheCallThroughItsLifecycle() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            let id = try await prepare(harness, client)
            for (sequence, status) in ["initiated", "ringing", "in-progress", "completed"].enumerated() {
                let response = try await post(
                    client, statusPath, form: statusForm(status, sequence: sequence), token: AppHarness.Secrets.twilioAuthToken)
                #expect(response.status == .noContent)
                #expect(try await callStatus(harness, id)?.status == status)
            }
            let call = try #require(try await callStatus(harness, id))
            #expect(call.durationSeconds == 42)
            #expect(call.answeredAt != nil && call.endedAt != nil)
        }
    }

    @Test func forgedMissingAndTamperedSignaturesAreRefusedAndStoreNothing() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            let id = try await prepare(harness, client)
            let forged = try await post(client, statusPath, form: statusForm("ringing", sequence: 1), token: "00000000000000000000000000000000")
            #expect(forged.status == .forbidden)
            let missing = try await post(client, statusPath, form: statusForm("ringing", sequence: 1), token: nil)
            #expect(missing.status == .unauthorized)
            let signedForRinging = TwilioSignature.compute(
                authToken: AppHarness.Secrets.twilioAuthToken, url: Self.publicURL + statusPath,
                parameters: statusForm("ringing", sequence: 1))
            let tampered = try await post(
                client, statusPath, form: statusForm("completed", sequence: 1), token: AppHarness.Secrets.twilioAuthToken,
                signatureOverride: signedForRinging)
            #expect(tampered.status == .forbidden)
            // Signed for the internal URL rather than the public one the provider called.
            let internalURL = TwilioSignature.compute(
                authToken: AppHarness.Secrets.twilioAuthToken, url: "http://127.0.0.1:8080" + statusPath,
                parameters: statusForm("ringing", sequence: 1))
            let wrongURL = try await post(
                client, statusPath, form: statusForm("ringing", sequence: 1), token: AppHarness.Secrets.twilioAuthToken,
                signatureOverride: internalURL)
            #expect(wrongURL.status == .forbidden)
            #expect(try await storedEvents(harness) == 0)
            #expect(try await callStatus(harness, id)?.status == "queued")
        }
    }

    @Test func aReplayedEventIsAcknowledgedAndProcessedOnce() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            _ = try await prepare(harness, client)
            for _ in 0..<3 {
                let response = try await post(
                    client, statusPath, form: statusForm("ringing", sequence: 1), token: AppHarness.Secrets.twilioAuthToken)
                #expect(response.status == .noContent)
            }
            #expect(try await storedEvents(harness) == 1)
        }
    }

    @Test func lateEventsNeverMoveACallBackwards() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            let id = try await prepare(harness, client)
            for (sequence, status) in [(3, "completed"), (1, "ringing"), (2, "in-progress"), (0, "initiated")] {
                let response = try await post(
                    client, statusPath, form: statusForm(status, sequence: sequence), token: AppHarness.Secrets.twilioAuthToken)
                #expect(response.status == .noContent)
            }
            #expect(try await callStatus(harness, id)?.status == "completed")
            #expect(try await storedEvents(harness) == 4)
        }
    }

    @Test func thePreviousTokenVerifiesDuringTheGraceWindowOnly() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            _ = try await prepare(harness, client)
            let rotate = try await client.send(
                .post, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION/rotate", key: harness.acmeAdmin,
                json: ["auth_token": .string(AppHarness.Secrets.rotatedAuthToken), "grace_period_seconds": .number(3600)])
            #expect(rotate.status == .ok)
            let old = try await post(client, statusPath, form: statusForm("ringing", sequence: 1), token: AppHarness.Secrets.twilioAuthToken)
            #expect(old.status == .noContent)
            let new = try await post(client, statusPath, form: statusForm("in-progress", sequence: 2), token: AppHarness.Secrets.rotatedAuthToken)
            #expect(new.status == .noContent)
            // The grace window ends.
            try await harness.postgres.query(
                "UPDATE organization_configuration SET previous_valid_until = now() - interval '1 second' WHERE previous_sealed IS NOT NULL",
                logger: TestDatabase.logger)
            harness.dependencies.factory.invalidateAll()
            let expired = try await post(client, statusPath, form: statusForm("completed", sequence: 3), token: AppHarness.Secrets.twilioAuthToken)
            #expect(expired.status == .forbidden)
        }
    }

    @Test func webhooksForAnUnknownOrganizationOrProviderAreRefused() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            _ = try await prepare(harness, client)
            let unknownOrg = "/api/v1/telephony/webhooks/twilio/nobody/status"
            let response = try await post(client, unknownOrg, form: statusForm("ringing", sequence: 1), token: AppHarness.Secrets.twilioAuthToken)
            #expect(response.status == .forbidden)
            let unconfigured = "/api/v1/telephony/webhooks/plivo/acme/status"
            let plivo = try await post(client, unconfigured, form: statusForm("ringing", sequence: 1), token: AppHarness.Secrets.twilioAuthToken)
            #expect(plivo.status == .forbidden)
            #expect(try await storedEvents(harness) == 0)
        }
    }

    @Test func theAnswerWebhookReturnsTwiMLStreamingToATokenisedURL() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            // The workflow ids are the stored call's; the query's (unsigned by Telnyx and Vonage) are ignored.
            _ = try await prepare(harness, client, workflowID: "wf1", workflowRunID: "run9")
            let path = "/api/v1/telephony/webhooks/twilio/acme/answer?workflow_id=forged&workflow_run_id=forged"
            let response = try await post(client, path, form: statusForm("in-progress", sequence: 2), token: AppHarness.Secrets.twilioAuthToken)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/xml")
            #expect(response.text.contains("<Connect><Stream url=\"wss://switchboard.example.com/api/v1/telephony/media-stream?"))
            #expect(response.text.contains("workflow_id=wf1&amp;workflow_run_id=run9&amp;expires="))
            #expect(!response.text.contains("forged"))
            // The URL's own expiry and token verify for exactly these ids, and only until they expire.
            let query = try #require(response.text.split(separator: "?").last?.split(separator: "\"").first)
                .replacingOccurrences(of: "&amp;", with: "&")
            let fields = Dictionary(
                query.split(separator: "&").map { pair in
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    return (parts[0], parts.count > 1 ? parts[1] : "")
                }, uniquingKeysWith: { first, _ in first })
            let token = try #require(fields["token"])
            let expires = try #require(fields["expires"].flatMap { Int($0) })
            #expect(abs(Double(expires) - Date().timeIntervalSince1970 - TokenSigner.streamTokenLifetime) < 60)
            let tokens = harness.dependencies.telephony.streamTokens
            #expect(tokens.isValidStreamToken(token, organizationID: harness.acme.id, workflowID: "wf1", workflowRunID: "run9", expires: expires, now: Date()))
            #expect(!tokens.isValidStreamToken(token, organizationID: harness.acme.id, workflowID: "wf1", workflowRunID: "run10", expires: expires, now: Date()))
            #expect(!tokens.isValidStreamToken(token, organizationID: harness.globex.id, workflowID: "wf1", workflowRunID: "run9", expires: expires, now: Date()))
            #expect(!tokens.isValidStreamToken(token, organizationID: harness.acme.id, workflowID: "wf1", workflowRunID: "run9", expires: expires + 1, now: Date()))
            #expect(!tokens.isValidStreamToken(
                token, organizationID: harness.acme.id, workflowID: "wf1", workflowRunID: "run9", expires: expires,
                now: Date(timeIntervalSince1970: Double(expires) + 1)))
            let unsigned = try await post(client, path, form: statusForm("in-progress", sequence: 2), token: nil)
            #expect(unsigned.status == .unauthorized)
        }
    }

    /// A captured, validly signed answer replayed after the call ended (or for a call this organization
    /// never placed) gets `<Hangup/>`, no stream URL and no token, and nothing is stored.
    @Test func aReplayedAnswerForAnEndedOrUnknownCallGetsHangupMarkupAndNoToken() async throws {
        try await AppHarness.run(configuration: Self.configuration) { harness, client in
            let id = try await prepare(harness, client, workflowID: "wf1", workflowRunID: "run9")
            let path = "/api/v1/telephony/webhooks/twilio/acme/answer?call_id=\(id.uuidString.lowercased())"
            let live = try await post(client, path, form: statusForm("in-progress", sequence: 2), token: AppHarness.Secrets.twilioAuthToken)
            #expect(live.text.contains("<Stream url="))
            let completed = try await post(
                client, statusPath, form: statusForm("completed", sequence: 3), token: AppHarness.Secrets.twilioAuthToken)
            #expect(completed.status == .noContent)
            let before = try await storedEvents(harness)
            let replay = try await post(client, path, form: statusForm("in-progress", sequence: 2), token: AppHarness.Secrets.twilioAuthToken)
            #expect(replay.status == .ok)
            #expect(replay.headers[.contentType] == "text/xml")
            #expect(replay.text == #"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#)
            #expect(!replay.text.contains("token="))
            // Another call sid (no call of Acme's) and a forged call id: the same.
            var other = statusForm("in-progress", sequence: 1)
            other[1] = ("CallSid", "CA" + String(repeating: "f", count: 32))
            for candidate in ["/api/v1/telephony/webhooks/twilio/acme/answer", path] {
                let unknown = try await post(client, candidate, form: other, token: AppHarness.Secrets.twilioAuthToken)
                #expect(unknown.text.contains("<Hangup/>") && !unknown.text.contains("token="), "\(candidate): \(unknown.text)")
            }
            #expect(try await storedEvents(harness) == before)
        }
    }
}

/// Form escaping for test bodies (what Twilio sends: application/x-www-form-urlencoded).
enum ProviderHTTPClientEscape {
    static func form(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value).replacingOccurrences(of: "%20", with: "+")
    }
}
