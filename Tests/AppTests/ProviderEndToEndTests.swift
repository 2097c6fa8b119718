import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PostgresNIO
import ProviderSimulators
import Providers
import TestSupport
import Testing

@testable import App

/// For each provider, against its simulator over real sockets: the exact request Switchboard
/// sends for a call, the signed lifecycle webhooks moving the call record, busy / no-answer,
/// duplicates and reordering, idempotent retries, hang-up, numbers, and live validation.
@Suite struct ProviderEndToEndTests {
    static let destination = "+14155550123"

    func placeCall(_ stack: LiveStack, to: String = destination, idempotencyKey: String? = nil) async throws
        -> [String: Any]
    {
        let response = try await stack.send(
            .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService,
            json: ["to_number": to, "workflow_id": "wf-1", "workflow_run_id": "run-1"])
        #expect(response.status == 201, "initiate-call: \(response.text)")
        return response.object
    }

    @Test(arguments: ProviderName.allCases)
    func aCallIsPlacedWithTheProvidersExactRequestAndItsWebhooksCompleteIt(_ provider: ProviderName) async throws {
        try await LiveStack.run { stack in
            try await stack.configure(provider)
            let placed = try await placeCall(stack)
            let callID = try #require(placed["call_id"] as? String)
            let providerCallID = try #require(placed["provider_call_id"] as? String)
            #expect(placed["provider"] as? String == provider.rawValue)

            let sent = try #require(stack.simulator.requests().last { $0.provider == provider.rawValue && $0.method == "POST" })
            #expect(sent.status / 100 == 2, "simulator answered \(sent.status): \(sent.bodyText)")
            let callbackBase = "\(stack.baseURL)/api/v1/telephony/webhooks/\(provider.rawValue)/\(stack.harness.acme.id.lowercasedString)"
            switch provider {
            case .twilio:
                let account = try #require(stack.accounts.twilio.first)
                #expect(sent.path.hasSuffix("/Accounts/\(account.accountSID)/Calls.json"))
                #expect(sent.headers["authorization"] == "Basic " + Data("\(account.accountSID):\(account.authToken)".utf8).base64EncodedString())
                #expect(sent.headers["content-type"] == "application/x-www-form-urlencoded")
                let form = sent.formParameters
                #expect(form.first { $0.0 == "To" }?.1 == Self.destination)
                #expect(form.first { $0.0 == "From" }?.1 == account.numbers[0])
                #expect(form.first { $0.0 == "StatusCallback" }?.1 == callbackBase + "/status")
                #expect(form.first { $0.0 == "Url" }?.1 == callbackBase + "/answer?call_id=" + callID)
                #expect(form.filter { $0.0 == "StatusCallbackEvent" }.map(\.1) == ["initiated", "ringing", "answered", "completed"])
            case .telnyx:
                let account = try #require(stack.accounts.telnyx.first)
                #expect(sent.path.hasSuffix("/v2/calls"))
                #expect(sent.headers["authorization"] == "Bearer \(account.apiKey)")
                let body = try #require(sent.jsonObject())
                #expect(body["connection_id"] as? String == account.connectionIDs[0])
                #expect(body["to"] as? String == Self.destination)
                #expect(body["webhook_url"] as? String == callbackBase + "/status")
                #expect((body["client_state"] as? String).flatMap { Data(base64Encoded: $0) } != nil)
                #expect(body["command_id"] as? String == callID)
                let stream = try #require(body["stream_url"] as? String)
                #expect(stream.hasPrefix(stack.baseURL.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/telephony/media-stream?"))
                #expect(stream.contains("workflow_id=wf-1") && stream.contains("token="))
            case .vonage:
                let account = try #require(stack.accounts.vonage.first)
                #expect(sent.path.hasSuffix("/v1/calls"))
                #expect(sent.headers["authorization"]?.hasPrefix("Bearer ey") == true)
                let body = try #require(sent.jsonObject())
                #expect((body["to"] as? [[String: Any]])?.first?["number"] as? String == "14155550123")
                #expect((body["from"] as? [String: Any])?["number"] as? String == String(account.numbers[0].dropFirst()))
                #expect(body["event_url"] as? [String] == [callbackBase + "/status"])
            case .plivo:
                let account = try #require(stack.accounts.plivo.first)
                #expect(sent.path.hasSuffix("/Account/\(account.authID)/Call/"))
                #expect(sent.headers["authorization"] == "Basic " + Data("\(account.authID):\(account.authToken)".utf8).base64EncodedString())
                let body = try #require(sent.jsonObject())
                #expect(body["to"] as? String == "14155550123")
                #expect(body["hangup_url"] as? String == callbackBase + "/status")
            }

            let final = try await stack.waitForEnd(of: callID)
            #expect(final["status"] as? String == "completed", "\(provider.rawValue) call ended as \(final)")
            #expect(final["provider_call_id"] as? String == providerCallID)
            #expect(final["answered_at"] is String)
            let delivered = stack.simulator.webhooks().filter { $0.provider == provider.rawValue }
            #expect(!delivered.isEmpty)
            #expect(delivered.allSatisfy { $0.responseStatus.map { (200..<300).contains($0) } ?? false },
                "\(delivered.map { "\($0.url) → \(String(describing: $0.responseStatus))" })")

            // Nothing the server logged (trace level, provider requests included) holds a credential.
            let lines = stack.logs.all
            #expect(lines.count > 5)
            for secret in stack.secrets where !secret.isEmpty {
                let probe = secret.count > 64 ? String(secret.dropFirst(40).prefix(40)) : secret
                #expect(!lines.contains { $0.contains(probe) }, "a \(provider.rawValue) credential reached the logs")
            }
        }
    }

    @Test(arguments: [(ProviderName.twilio, "+14155550486", "busy"), (.telnyx, "+14155550486", "busy"),
                      (.vonage, "+14155550404", "no-answer"), (.plivo, "+14155550404", "no-answer"),
                      (.twilio, "+14155550404", "no-answer"), (.plivo, "+14155550486", "busy"),
                      // The Telnyx simulator ends these with the published causes `not_found` and `timeout`.
                      (.telnyx, "+14155550500", "failed"), (.telnyx, "+14155550404", "no-answer")])
    func busyAndUnansweredCallsEndThatWay(_ provider: ProviderName, _ to: String, _ expected: String) async throws {
        try await LiveStack.run { stack in
            try await stack.configure(provider)
            let placed = try await placeCall(stack, to: to)
            let final = try await stack.waitForEnd(of: try #require(placed["call_id"] as? String))
            #expect(final["status"] as? String == expected)
            #expect(final["answered_at"] == nil || final["answered_at"] is NSNull)
        }
    }

    @Test(arguments: ProviderName.allCases)
    func duplicatedAndShuffledWebhooksLeaveTheSameFinalState(_ provider: ProviderName) async throws {
        try await LiveStack.run(settings: .init(duplicateEveryWebhook: true, shuffleWebhooks: true)) { stack in
            try await stack.configure(provider)
            let placed = try await placeCall(stack)
            let callID = try #require(placed["call_id"] as? String)
            _ = try await stack.waitForEnd(of: callID)
            // Every copy of every event is delivered (each lifecycle has at least two events, each sent twice).
            let delivered = await stack.simulator.waitForWebhooks(count: 4, timeout: .seconds(15))
                .filter { $0.provider == provider.rawValue }
            #expect(delivered.count >= 4)
            #expect(delivered.allSatisfy { $0.responseStatus.map { (200..<300).contains($0) } ?? false },
                "\(delivered.map { "\($0.url) → \(String(describing: $0.responseStatus)) \($0.failure ?? "")" })")
            let final = try await stack.send(.GET, "/api/v1/telephony/calls/\(callID)", key: stack.harness.acmeService)
            #expect(final.object["status"] as? String == "completed")
        }
    }

    @Test func aRetriedRequestWithTheSameIdempotencyKeyPlacesOneCall() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.twilio)
            var request = HTTPClientRequestBuilder(stack: stack)
            let first = try await request.initiate(idempotencyKey: "retry-1", to: Self.destination)
            let second = try await request.initiate(idempotencyKey: "retry-1", to: Self.destination)
            #expect(first.status == 201 && second.status == 201)
            #expect(first.object["call_id"] as? String == second.object["call_id"] as? String)
            let other = try await request.initiate(idempotencyKey: "retry-1", to: "+14155550999")
            #expect(other.status == 409)
            let placedCalls = stack.simulator.requests().filter { $0.provider == "twilio" && $0.path.hasSuffix("/Calls.json") && $0.method == "POST" }
            #expect(placedCalls.count == 1)
        }
    }

    /// The fingerprint is of the request as sent: a retry after the organization's default provider
    /// changed is the same request and replays, instead of a 409 for "another request".
    @Test func aRetryAfterTheDefaultProviderChangedReplaysTheFirstCall() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.twilio)
            var request = HTTPClientRequestBuilder(stack: stack)
            let first = try await request.initiate(idempotencyKey: "retry-2", to: Self.destination)
            #expect(first.status == 201)
            try await stack.configure(.telnyx)
            let second = try await request.initiate(idempotencyKey: "retry-2", to: Self.destination)
            #expect(second.status == 201, "\(second.object)")
            #expect(second.object["call_id"] as? String == first.object["call_id"] as? String)
            #expect(second.object["provider"] as? String == "twilio")
        }
    }

    /// Idempotency-Keys expire after 24 hours: a key first used more than a day ago places a new
    /// call, even for another request; the old call stays.
    @Test func anIdempotencyKeyOlderThanADayIsFreeAgain() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.twilio)
            var request = HTTPClientRequestBuilder(stack: stack)
            let first = try await request.initiate(idempotencyKey: "daily", to: Self.destination)
            #expect(first.status == 201)
            let firstID = try #require((first.object["call_id"] as? String).flatMap(UUID.init(uuidString:)))
            try await stack.harness.postgres.query(
                "UPDATE calls SET created_at = now() - interval '25 hours' WHERE id = \(firstID)", logger: TestDatabase.logger)
            let again = try await request.initiate(idempotencyKey: "daily", to: "+14155550999")
            #expect(again.status == 201, "\(again.object)")
            #expect(again.object["call_id"] as? String != first.object["call_id"] as? String)
            let old = try await stack.send(.GET, "/api/v1/telephony/calls/\(firstID.lowercasedString)", key: stack.harness.acmeService)
            #expect(old.status == 200)
            // Within the day the key still names its call.
            let replay = try await request.initiate(idempotencyKey: "daily", to: "+14155550999")
            #expect(replay.object["call_id"] as? String == again.object["call_id"] as? String)
        }
    }

    /// An account with more numbers than any provider's largest page (Twilio PageSize ≤ 1000, Telnyx
    /// page[size] ≤ 250, Vonage size ≤ 100, Plivo limit ≤ 20): the listing follows every page.
    @Test(arguments: ProviderName.allCases)
    func numberListingsFollowEveryPage(_ provider: ProviderName) async throws {
        let owned = (0..<1_050).map { String(format: "+1415%07d", 2_000_000 + $0) }
        try await LiveStack.run(accounts: { accounts in
            switch provider {
            case .twilio: accounts.twilio[0].numbers += owned
            case .telnyx: accounts.telnyx[0].numbers += owned
            case .vonage: accounts.vonage[0].numbers += owned
            case .plivo: accounts.plivo[0].numbers += owned
            }
        }) { stack in
            try await stack.configure(provider)
            let numbers = try await stack.send(.GET, "/api/v1/telephony/phone-numbers", key: stack.harness.acmeService)
            #expect(numbers.status == 200, "\(numbers.text)")
            let listed = ((numbers.object["phone_numbers"] as? [[String: Any]]) ?? []).compactMap {
                ($0["phone_number"] as? String ?? $0["number"] as? String).map { $0.hasPrefix("+") ? $0 : "+" + $0 }
            }
            let expected: [String] =
                switch provider {
                case .twilio: stack.accounts.twilio[0].numbers
                case .telnyx: stack.accounts.telnyx[0].numbers
                case .vonage: stack.accounts.vonage[0].numbers
                case .plivo: stack.accounts.plivo[0].numbers
                }
            #expect(listed.count == expected.count, "\(provider.rawValue) listed \(listed.count) of \(expected.count)")
            #expect(Set(listed) == Set(expected))
            let pages = stack.simulator.requests().filter { $0.provider == provider.rawValue && $0.method == "GET" }
            #expect(pages.count > 1, "\(provider.rawValue) read one page")
        }
    }

    @Test(arguments: ProviderName.allCases)
    func validationChecksTheCredentialsLiveAndReportsTheProvidersReason(_ provider: ProviderName) async throws {
        try await LiveStack.run { stack in
            try await stack.configure(provider)
            let path = "/api/v1/organizations/acme/configuration/\(provider.configurationKey.rawValue)/validate"
            let good = try await stack.send(.POST, path, key: stack.harness.acmeAdmin)
            #expect(good.status == 200, "\(good.text)")
            #expect(good.object["valid"] as? Bool == true)
            let audited = try await AuditRow.all(
                stack.harness.postgres, organizationID: stack.harness.acme.id, action: "configuration.validate")
            #expect(audited.count == 1)
            #expect(audited.first?.target == provider.configurationKey.rawValue)
            #expect(audited.first?.details == ["result": "ok"])
            #expect(audited.first?.actorType == "api_key" && audited.first?.keyRole == "admin")
            let numbers = try await stack.send(.GET, "/api/v1/telephony/phone-numbers", key: stack.harness.acmeService)
            #expect(numbers.status == 200, "\(numbers.text)")
            #expect(((numbers.object["phone_numbers"] as? [[String: Any]]) ?? []).count >= 1)
            // Vonage's account APIs carry api_secret in the query: it must not reach a log line either.
            for secret in stack.secrets where !secret.isEmpty {
                let probe = secret.count > 64 ? String(secret.dropFirst(40).prefix(40)) : secret
                #expect(!stack.logs.all.contains { $0.contains(probe) }, "a \(provider.rawValue) credential reached the logs")
                #expect(!numbers.text.contains(probe) && !good.text.contains(probe))
            }
        }
    }

    @Test func wrongCredentialsAreA400WithTheProvidersReasonAndPlaceNoCall() async throws {
        try await LiveStack.run { stack in
            let account = try #require(stack.accounts.twilio.first)
            let put = try await stack.send(
                .PUT, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION", key: stack.harness.acmeAdmin,
                json: ["account_sid": account.accountSID, "auth_token": String(repeating: "0", count: 32), "from_numbers": account.numbers])
            #expect(put.status == 201)
            let validate = try await stack.send(
                .POST, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION/validate", key: stack.harness.acmeAdmin)
            #expect(validate.status == 400)
            #expect(validate.text.contains("twilio refused the credentials"))
            let audited = try await AuditRow.all(
                stack.harness.postgres, organizationID: stack.harness.acme.id, action: "configuration.validate")
            #expect(audited.map(\.details) == [["result": "failed"]])
            #expect(audited.first?.keyRole == "admin")
            #expect(!(audited.first?.detailsText.contains(String(repeating: "0", count: 32)) ?? true))
            let call = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": Self.destination])
            #expect(call.status == 502)
            let list = try await stack.send(.GET, "/api/v1/telephony/calls", key: stack.harness.acmeService)
            #expect((list.object["calls"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: ProviderName.allCases)
    func hangingUpAnAnsweredCallAsksTheProviderAndTheWebhookEndsIt(_ provider: ProviderName) async throws {
        try await LiveStack.run(settings: .init(talkTime: .seconds(30))) { stack in
            try await stack.configure(provider)
            let placed = try await placeCall(stack)
            let callID = try #require(placed["call_id"] as? String)
            // Let it be answered first.
            for _ in 0..<100 {
                let call = try await stack.send(.GET, "/api/v1/telephony/calls/\(callID)", key: stack.harness.acmeService)
                if call.object["status"] as? String == "in-progress" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let hangup = try await stack.send(.POST, "/api/v1/telephony/calls/\(callID)/hangup", key: stack.harness.acmeService)
            #expect(hangup.status == 202, "\(hangup.text)")
            if provider == .plivo {
                // A live Plivo call is hung up by its CallUUID (learnt from the callbacks), in one request.
                let deletes = stack.simulator.requests().filter { $0.provider == "plivo" && $0.method == "DELETE" }
                #expect(deletes.map(\.status) == [204])
                #expect(deletes.last?.path.contains("/Call/") == true)
            }
            let final = try await stack.waitForEnd(of: callID)
            #expect(final["status"] as? String == "completed")
            let again = try await stack.send(.POST, "/api/v1/telephony/calls/\(callID)/hangup", key: stack.harness.acmeService)
            #expect(again.status == 409)
        }
    }

    @Test func aPlivoCallStillQueuedIsCancelledThroughItsRequest() async throws {
        try await LiveStack.run(settings: .init(ringDelay: .seconds(30))) { stack in
            try await stack.configure(.plivo)
            let placed = try await placeCall(stack)
            let callID = try #require(placed["call_id"] as? String)
            let hangup = try await stack.send(.POST, "/api/v1/telephony/calls/\(callID)/hangup", key: stack.harness.acmeService)
            #expect(hangup.status == 202, "\(hangup.text)")
            let deletes = stack.simulator.requests().filter { $0.provider == "plivo" && $0.method == "DELETE" }
            // No callback has named the call's UUID yet: the queued request is cancelled directly
            // (DELETE /Request/{request_uuid}/), never a DELETE /Call/ with the request's id.
            #expect(deletes.map(\.status) == [204])
            #expect(deletes.last?.path.contains("/Request/") == true)
        }
    }
}

/// Sends initiate-call with an Idempotency-Key header.
struct HTTPClientRequestBuilder {
    let stack: LiveStack

    mutating func initiate(idempotencyKey: String, to: String) async throws -> (status: Int, object: [String: Any]) {
        var request = HTTPClientRequest(url: stack.baseURL + "/api/v1/telephony/initiate-call")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(stack.harness.acmeService)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: idempotencyKey)
        request.body = .bytes(.init(data: try JSONSerialization.data(withJSONObject: ["to_number": to])))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:])
    }
}
