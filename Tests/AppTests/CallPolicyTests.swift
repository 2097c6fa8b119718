import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import Persistence
import PostgresNIO
import ProviderSimulators
import Providers
import TestSupport
import Testing

@testable import App

/// Toll-fraud limits: CALL_POLICY's destinations and rates on initiate-call and cold-call
/// initiate, counted in PostgreSQL; and the per-address limit on failed authentication.
@Suite struct CallPolicyTests {
    func countRows(_ postgres: PostgresClient, _ table: String) async throws -> Int {
        for try await count in try await postgres.query("SELECT count(*)::int8 FROM \(unescaped: table)", logger: TestDatabase.logger)
            .decode(Int.self)
        {
            return count
        }
        return -1
    }

    func putPolicy(_ stack: LiveStack, _ policy: [String: Any]) async throws {
        let put = try await stack.send(
            .PUT, "/api/v1/organizations/acme/configuration/CALL_POLICY", key: stack.harness.acmeAdmin, json: policy)
        #expect(put.status == 201, "CALL_POLICY: \(put.text)")
    }

    @Test func countryCallingCodesAreReadFromE164Numbers() {
        #expect(CountryCallingCode.prefix(of: "+14155550100") == "+1")
        #expect(CountryCallingCode.prefix(of: "+442079460000") == "+44")
        #expect(CountryCallingCode.prefix(of: "+353871234567") == "+353")
        #expect(CountryCallingCode.prefix(of: "+79161234567") == "+7")
        #expect(CountryCallingCode.prefix(of: "+971501234567") == "+971")
        #expect(CountryCallingCode.prefix(of: "4155550100") == nil)
        #expect(CountryCallingCode.prefixes(of: ["+14155550100", "+14155550101", "+447911123456"]) == ["+1", "+44"])
        // Every country the contact import knows is read back with its own calling code.
        for country in PhoneNumberNormalizer.countries.values {
            #expect(CountryCallingCode.prefix(of: "+" + country.callingCode + "123456789") == "+" + country.callingCode)
        }
    }

    @Test func aDestinationOutsideTheCountriesOfTheOrganizationsNumbersIsRefused() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.twilio)
            let refused = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService,
                json: ["to_number": "+882345678901"])
            #expect(refused.status == 403, "\(refused.text)")
            #expect((refused.object["error"] as? [String: Any])?["code"] as? String == "destination_not_allowed")
            #expect(try await countRows(stack.harness.postgres, "calls") == 0)
            #expect(!stack.simulator.requests().contains { $0.method == "POST" && $0.path.hasSuffix("/Calls.json") })
            let allowed = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"])
            #expect(allowed.status == 201, "\(allowed.text)")
        }
    }

    @Test func aStoredPolicyReplacesTheDefaultPrefixesForCallsAndColdCalls() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.twilio)
            try await putPolicy(stack, ["allowed_destination_prefixes": ["+4420"]])
            let call = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"])
            #expect(call.status == 403, "\(call.text)")
            #expect((call.object["error"] as? [String: Any])?["code"] as? String == "destination_not_allowed")
            let cold = try await stack.send(
                .POST, "/api/v1/cold-call/initiate", key: stack.harness.acmeService, json: ["to_phone": "+14155550123"])
            #expect(cold.status == 403, "\(cold.text)")
            #expect((cold.object["error"] as? [String: Any])?["code"] as? String == "destination_not_allowed")
            #expect(try await countRows(stack.harness.postgres, "conferences") == 0)
            let london = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+442079460000"])
            #expect(london.status == 201, "\(london.text)")
        }
    }

    @Test func ofConcurrentInitiatesExactlyTheCallsPerMinuteSucceed() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.twilio)
            try await putPolicy(stack, ["max_calls_per_minute": 3])
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let response = try await stack.send(
                            .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService,
                            json: ["to_number": "+1415555\(1000 + index)"])
                        return (response.status, response.text)
                    }
                }
                var answers: [(Int, String)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            #expect(answers.filter { $0.0 == 201 }.count == 3, "\(answers)")
            let limited = answers.filter { $0.0 == 429 }
            #expect(limited.count == 5, "\(answers)")
            for answer in limited {
                #expect(answer.1.contains(#""code":"rate_limited""#), "\(answer.1)")
            }
            // Retry-After is checked on one more request (the task group keeps only bodies).
            var request = HTTPClientRequest(url: stack.baseURL + "/api/v1/telephony/initiate-call")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(stack.harness.acmeService)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"to_number":"+14155552222"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 429)
            let retryAfter = try #require(response.headers.first(name: "Retry-After").flatMap(Int.init))
            #expect((1...60).contains(retryAfter))
            #expect(try await countRows(stack.harness.postgres, "calls") == 3)
        }
    }

    @Test func callsNotYetEndedCountAgainstMaxConcurrentCalls() async throws {
        try await LiveStack.run(settings: CallScenarioSettings(talkTime: .seconds(60))) { stack in
            try await stack.configure(.twilio)
            try await putPolicy(stack, ["max_concurrent_calls": 1])
            let first = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"])
            #expect(first.status == 201, "\(first.text)")
            let second = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550124"])
            #expect(second.status == 429, "\(second.text)")
            let cold = try await stack.send(
                .POST, "/api/v1/cold-call/initiate", key: stack.harness.acmeService, json: ["to_phone": "+14155550125"])
            #expect(cold.status == 429, "\(cold.text)")
            // The refused cold call leaves no session behind.
            #expect(try await countRows(stack.harness.postgres, "conferences") == 0)
            let keyed = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550123"],
                headers: [("Idempotency-Key", "first")])
            #expect(keyed.status == 429)
            try await stack.harness.postgres.query(
                "UPDATE calls SET status = 'completed', ended_at = now()", logger: TestDatabase.logger)
            let third = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550126"],
                headers: [("Idempotency-Key", "third")])
            #expect(third.status == 201, "\(third.text)")
            // With the third call live the limit is reached again, but a replay is an answer, not a new call.
            let replay = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService, json: ["to_number": "+14155550126"],
                headers: [("Idempotency-Key", "third")])
            #expect(replay.status == 201, "\(replay.text)")
        }
    }

    @Test func callPolicyIsValidatedLikeEveryConfigurationDocument() async throws {
        try await AppHarness.run { harness, client in
            let path = "/api/v1/organizations/acme/configuration/CALL_POLICY"
            let invalid = try await client.send(
                .put, path, key: harness.acmeAdmin,
                json: ["allowed_destination_prefixes": .array([.string("44")]), "max_calls_per_minute": .number(0)])
            #expect(invalid.status == .unprocessableContent)
            #expect(try invalid.errorCode() == "invalid_configuration")
            let fields = try #require((try invalid.object()["error"] as? [String: Any])?["fields"] as? [[String: Any]])
            #expect(fields.compactMap { $0["field"] as? String } == ["allowed_destination_prefixes[0]", "max_calls_per_minute"])
            let service = try await client.send(.put, path, key: harness.acmeService, json: ["max_calls_per_minute": .number(5)])
            #expect(service.status == .forbidden)
            let stored = try await client.send(.put, path, key: harness.acmeAdmin, json: ["max_calls_per_minute": .number(5)])
            #expect(stored.status == .created)
            let read = try await client.send(.get, path, key: harness.acmeService)
            #expect((try read.object()["document"] as? [String: Any])?["max_calls_per_minute"] as? Int == 5)
        }
    }

    // MARK: - Failed authentication

    /// The production router with `limiter` counting failed authentications.
    func withLimitedRouter(
        _ limiter: AuthenticationFailureLimiter, logs: LogCapture? = nil,
        _ body: @Sendable (AppHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestDatabase.withMigratedDatabase { postgres, _ in
            let harness = try await AppHarness.make(postgres: postgres, configuration: AppConfiguration())
            var dependencies = harness.dependencies
            dependencies.authenticationFailures = limiter
            var quiet = Logger(label: "app")
            quiet.logLevel = .critical
            let app = Application(router: buildRouter(dependencies), logger: logs?.logger(label: "app") ?? quiet)
            try await app.test(.router) { client in try await body(harness, client) }
        }
    }

    @Test func anAddressThatKeepsPresentingBadKeysIsRefusedWith429() async throws {
        try await withLimitedRouter(AuthenticationFailureLimiter(limit: 3, window: .seconds(60))) { harness, client in
            for _ in 0..<3 {
                let bad = try await client.send(.get, "/api/v1/contacts", key: "sb_notakeyatall_x")
                #expect(bad.status == .unauthorized)
            }
            let limited = try await client.send(.get, "/api/v1/contacts", key: "sb_notakeyatall_x")
            #expect(limited.status == .tooManyRequests)
            #expect(try limited.errorCode() == "rate_limited")
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { (1...60).contains($0) } == true)
            // Until the window ends the address is refused before any key is looked up.
            let good = try await client.send(.get, "/api/v1/contacts", key: harness.acmeService)
            #expect(good.status == .tooManyRequests)
            // Routes outside the API stay open.
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func refusedWebhookSignaturesCountAsFailedAuthentication() async throws {
        try await withLimitedRouter(AuthenticationFailureLimiter(limit: 2, window: .seconds(60))) { harness, client in
            let path = "/api/v1/telephony/webhooks/twilio/\(harness.acme.id.lowercasedString)/status"
            for _ in 0..<2 {
                let refused = try await client.send(
                    .post, path, raw: "CallSid=CA1&CallStatus=completed",
                    headers: [.contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Twilio-Signature")!: "bad"])
                #expect(refused.status == .forbidden)
            }
            let limited = try await client.send(
                .post, path, raw: "CallSid=CA1&CallStatus=completed",
                headers: [.contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Twilio-Signature")!: "bad"])
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test func failedAuthenticationIsLoggedAtMostOncePerSecondPerReason() async throws {
        let logs = LogCapture()
        // A clock that never moves: every failure falls in the same second, however slow the machine.
        let instant = ContinuousClock.now
        let limiter = AuthenticationFailureLimiter(limit: 1000, window: .seconds(60), now: { instant })
        try await withLimitedRouter(limiter, logs: logs) { _, client in
            for _ in 0..<20 {
                _ = try await client.send(.get, "/api/v1/contacts", key: "sb_notakeyatall_x")
                _ = try await client.send(.get, "/api/v1/contacts")
            }
        }
        let lines = logs.all.filter { $0.contains("authentication failed") }
        #expect(lines.filter { $0.contains("reason=invalid_api_key") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("reason=missing_api_key") }.count == 1, "\(lines)")
    }
}
