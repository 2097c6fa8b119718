import Foundation
import HTTPTypes
import HummingbirdTesting
import Providers
import Testing

@testable import App

/// `GET /metrics`: Prometheus text after real requests — counted under their route templates,
/// never their paths' ids or slugs, and never a secret.
@Suite struct MetricsRoutesTests {
    static let publicURL = "https://switchboard.example.com"

    /// The value of the sample `name{labels}` in a text exposition, if present.
    static func sample(_ exposition: String, _ name: String, _ labels: [(String, String)]) -> Double? {
        let rendered = labels.isEmpty ? name : name + "{" + labels.map { #"\#($0.0)="\#($0.1)""# }.joined(separator: ",") + "}"
        for line in exposition.split(separator: "\n") where line.hasPrefix(rendered + " ") {
            return Double(line.dropFirst(rendered.count + 1))
        }
        return nil
    }

    @Test func requestsAreCountedPerRouteTemplateAndStatusWithoutIDsOrSecrets() async throws {
        var configuration = AppConfiguration()
        configuration.publicURL = Self.publicURL
        try await AppHarness.run(configuration: configuration) { harness, client in
            let put = try await client.send(
                .put, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION", key: harness.acmeAdmin,
                json: AppHarness.twilioDocument)
            #expect(put.status == .created)
            for _ in 0..<2 { #expect(try await client.send(.get, "/healthz").status == .ok) }
            let byID = "/api/v1/organizations/\(harness.acme.id.lowercasedString)/configuration/TWILIO_CONFIGURATION"
            #expect(try await client.send(.get, byID, key: harness.acmeService).status == .ok)
            #expect(
                try await client.send(.get, "/api/v1/organizations/globex/configuration/TWILIO_CONFIGURATION", key: harness.acmeAdmin)
                    .status == .notFound)
            let strayID = UUID().uuidString.lowercased()
            #expect(try await client.send(.get, "/no-such-route/\(strayID)").status == .notFound)
            let form = [("CallSid", "CA0123456789abcdef0123456789abcdef"), ("CallStatus", "ringing")]
            let forged = try await client.send(
                .post, "/api/v1/telephony/webhooks/twilio/\(harness.acme.id.lowercasedString)/status",
                raw: form.map { "\($0.0)=\($0.1)" }.joined(separator: "&"),
                headers: [
                    .contentType: "application/x-www-form-urlencoded",
                    HTTPField.Name("X-Twilio-Signature")!: TwilioSignature.compute(
                        authToken: "00000000000000000000000000000000", url: Self.publicURL + "/elsewhere", parameters: form),
                ])
            #expect(forged.status == .forbidden)

            let response = try await client.send(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let text = response.text

            #expect(text.contains("# TYPE switchboard_http_requests_total counter"))
            #expect(text.contains("# TYPE switchboard_http_request_duration_seconds histogram"))
            let health = [("method", "GET"), ("route", "/healthz"), ("status", "200")]
            #expect(Self.sample(text, "switchboard_http_requests_total", health) == 2)
            #expect(Self.sample(text, "switchboard_http_request_duration_seconds_count", health) == 2)
            #expect(
                Self.sample(
                    text, "switchboard_http_request_duration_seconds_bucket", health + [("le", "+Inf")]) == 2)
            let configurationRoute = "/api/v1/organizations/{org}/configuration/{key}"
            #expect(
                Self.sample(
                    text, "switchboard_http_requests_total",
                    [("method", "GET"), ("route", configurationRoute), ("status", "200")]) == 1)
            #expect(
                Self.sample(
                    text, "switchboard_http_requests_total",
                    [("method", "GET"), ("route", configurationRoute), ("status", "404")]) == 1)
            #expect(
                Self.sample(
                    text, "switchboard_http_requests_total",
                    [("method", "PUT"), ("route", configurationRoute), ("status", "201")]) == 1)
            #expect(
                Self.sample(
                    text, "switchboard_http_requests_total",
                    [("method", "GET"), ("route", MetricsMiddleware.unmatchedRoute), ("status", "404")]) == 1)
            #expect(
                Self.sample(
                    text, "switchboard_http_requests_total",
                    [("method", "POST"), ("route", "/api/v1/telephony/webhooks/{provider}/{org}/status"), ("status", "403")])
                    == 1)
            #expect(
                Self.sample(
                    text, "switchboard_webhook_verification_failures_total",
                    [("provider", "twilio"), ("reason", "invalid_signature")]) == 1)
            #expect(Self.sample(text, "switchboard_provider_cache_lookups_total", [("result", "miss")]) == 1)

            // Path parameters and secrets never become labels.
            let forbidden = [
                harness.acme.id.lowercasedString, harness.acme.id.uuidString, "acme", "globex", strayID,
                harness.acmeAdmin, harness.acmeService, harness.platformKey, AppHarness.Secrets.twilioAuthToken,
                AppHarness.Secrets.twilioAccountSID, "sb_",
            ]
            for value in forbidden {
                #expect(!text.contains(value), "the exposition contains '\(value.prefix(8))…'")
            }
        }
    }

    @Test func metricsNeedNoAPIKey() async throws {
        try await AppHarness.run { _, client in
            let response = try await client.send(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.text.contains("switchboard_provider_cache_lookups_total"))
        }
    }

    @Test func providerRequestsAndFailuresAreCountedPerProviderAndOutcome() {
        let metrics = AppMetrics()
        metrics.providerRequest(.twilio, outcome: .success, duration: .milliseconds(12))
        metrics.providerRequest(.twilio, outcome: .success, duration: .milliseconds(30))
        metrics.providerRequest(.telnyx, outcome: .timeout, duration: .seconds(2))
        metrics.providerRequest(.plivo, outcome: .rejected, duration: .milliseconds(40))
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(
            Self.sample(
                text, "switchboard_provider_request_duration_seconds_count", [("provider", "twilio"), ("outcome", "success")])
                == 2)
        #expect(
            Self.sample(
                text, "switchboard_provider_request_duration_seconds_bucket",
                [("provider", "twilio"), ("outcome", "success"), ("le", "0.025")]) == 1)
        #expect(Self.sample(text, "switchboard_provider_request_errors_total", [("provider", "telnyx"), ("outcome", "timeout")]) == 1)
        #expect(Self.sample(text, "switchboard_provider_request_errors_total", [("provider", "plivo"), ("outcome", "rejected")]) == 1)
        #expect(!text.contains(#"switchboard_provider_request_errors_total{provider="twilio""#))
    }

    @Test func aCallThroughTheSimulatorIsTimedUnderItsProvider() async throws {
        try await LiveStack.run { stack in
            try await stack.configure(.twilio)
            let placed = try await stack.send(
                .POST, "/api/v1/telephony/initiate-call", key: stack.harness.acmeService,
                json: ["to_number": "+14155550123"])
            #expect(placed.status == 201, "initiate-call: \(placed.text)")
            let scrape = try await stack.send(.GET, "/metrics")
            #expect(scrape.status == 200)
            let count = Self.sample(
                scrape.text, "switchboard_provider_request_duration_seconds_count",
                [("provider", "twilio"), ("outcome", "success")])
            #expect((count ?? 0) >= 1, "no successful Twilio request was timed")
            #expect(
                (Self.sample(
                    scrape.text, "switchboard_http_requests_total",
                    [("method", "POST"), ("route", "/api/v1/telephony/initiate-call"), ("status", "201")]) ?? 0) == 1)
            for secret in stack.secrets + [stack.harness.acme.id.lowercasedString] {
                #expect(!scrape.text.contains(secret))
            }
        }
    }
}
