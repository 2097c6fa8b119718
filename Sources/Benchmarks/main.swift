import AsyncHTTPClient
import Foundation
import Providers

/// Micro-benchmarks of the hot paths that touch no network: a cached provider resolution and
/// webhook signature verification. Run with `scripts/bench` (release build).

/// An in-memory source: the cache is what is measured, so the source is read once.
struct FixedSource: ProviderConfigurationSource {
    let configuration: OrganizationTelephonyConfiguration
    func telephonyConfiguration(for organizationID: UUID) async throws -> OrganizationTelephonyConfiguration {
        configuration
    }
}

/// Runs `body` `iterations` times after a warm-up and prints the mean time per call. Everything
/// runs off the main actor, so no executor hop is measured with the work.
func measure(_ name: String, iterations: Int, _ body: () async throws -> Void) async rethrows {
    for _ in 0..<(iterations / 10) { try await body() }
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<iterations { try await body() }
    let elapsed = clock.now - start
    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    print(String(format: "%-44@ %10.0f ns/op  (%d iterations)", name as NSString, nanoseconds / Double(iterations), iterations))
}

/// The benchmarks, nonisolated: top-level code is main-actor isolated, and a hop per iteration
/// would dominate what is measured.
nonisolated func runBenchmarks() async throws {
    let twilio: [String: JSONValue] = [
        "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "fedcba9876543210fedcba9876543210",
        "from_numbers": ["+14155550100"],
    ]
    let organizations = (0..<10_000).map { _ in UUID() }
    let factory = ProviderFactory(
        source: FixedSource(configuration: .init(providers: [.twilio: .init(current: twilio)], defaultProvider: .twilio)),
        environment: .init(), http: ProviderHTTPClient(client: .shared))
    for organization in organizations { _ = try await factory.provider(for: organization) }

    var index = 0
    try await measure("cached provider resolution (10k orgs cached)", iterations: 200_000) {
        index = (index &+ 7919) % organizations.count
        _ = try await factory.provider(for: organizations[index])
    }

    let url = "https://switchboard.example.com/api/v1/telephony/webhooks/twilio/acme/status"
    let params = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"), ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "ringing"), ("From", "+14155550100"), ("To", "+14155550123"), ("SequenceNumber", "1"),
    ]
    let signature = TwilioSignature.compute(authToken: "fedcba9876543210fedcba9876543210", url: url, parameters: params)
    let body = Array(params.map { "\($0.0)=\($0.1.replacingOccurrences(of: "+", with: "%2B"))" }.joined(separator: "&").utf8)
    let request = WebhookRequest(
        method: "POST", url: url,
        headers: [("X-Twilio-Signature", signature), ("Content-Type", "application/x-www-form-urlencoded")], body: body)
    try await measure("Twilio webhook signature verification", iterations: 100_000) {
        try WebhookVerifier.verify(
            request, provider: .twilio, secrets: [.twilioAuthToken("fedcba9876543210fedcba9876543210")], now: Date())
    }
    print("cache: \(factory.cacheStatistics)")
}

try await Task.detached { try await runBenchmarks() }.value
