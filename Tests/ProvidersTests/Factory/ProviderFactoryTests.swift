import AsyncHTTPClient
import Foundation
import Providers
import Synchronization
import Testing

/// A source that counts its reads and can be switched off, standing in for PostgreSQL where the
/// factory's own logic is under test (the app tests run it against the real database).
final class CountingSource: ProviderConfigurationSource {
    let configuration: Mutex<OrganizationTelephonyConfiguration>
    let reads = Mutex(0)
    let isDown = Mutex(false)

    struct Down: Error {}

    init(_ configuration: OrganizationTelephonyConfiguration) {
        self.configuration = Mutex(configuration)
    }

    func telephonyConfiguration(for organizationID: UUID) async throws -> OrganizationTelephonyConfiguration {
        if isDown.withLock({ $0 }) { throw Down() }
        reads.withLock { $0 += 1 }
        return configuration.withLock { $0 }
    }
}

@Suite struct ProviderFactoryTests {
    static let twilio: [String: JSONValue] = [
        "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "fedcba9876543210fedcba9876543210",
        "from_numbers": ["+14155550100"],
    ]
    static let plivo: [String: JSONValue] = [
        "auth_id": "MAODUZYTQ0Y2FMYJBLOW", "auth_token": "test-only-plivo-token", "from_numbers": ["+14155550101"],
    ]
    let http = ProviderHTTPClient(client: .shared)

    func factory(stored: OrganizationTelephonyConfiguration, environment: OrganizationTelephonyConfiguration = .init())
        -> (ProviderFactory, CountingSource)
    {
        let source = CountingSource(stored)
        return (ProviderFactory(source: source, environment: environment, http: http), source)
    }

    @Test func theStoredConfigurationComesFirst() async throws {
        let (factory, _) = factory(
            stored: .init(providers: [.plivo: .init(current: Self.plivo)]),
            environment: .init(providers: [.twilio: .init(current: Self.twilio)], defaultProvider: .twilio))
        #expect(try await factory.provider(for: UUID()).name == .plivo)
    }

    @Test func theEnvironmentIsTheFallbackWhenNothingIsStored() async throws {
        let (factory, _) = factory(stored: .init(), environment: .init(providers: [.twilio: .init(current: Self.twilio)]))
        let provider = try await factory.provider(for: UUID())
        #expect(provider.name == .twilio)
        #expect(provider.configuredNumbers == ["+14155550100"])
    }

    @Test func nothingConfiguredIsAClearError() async throws {
        let (factory, _) = factory(stored: .init())
        let error = await #expect(throws: ProviderResolutionError.self) { try await factory.provider(for: UUID()) }
        #expect(error?.description.contains("TWILIO_CONFIGURATION") == true)
    }

    @Test func anExplicitProviderMustBeConfigured() async throws {
        let (factory, _) = factory(stored: .init(providers: [.twilio: .init(current: Self.twilio)]))
        #expect(try await factory.provider(for: UUID(), explicit: .twilio).name == .twilio)
        let error = await #expect(throws: ProviderResolutionError.self) {
            try await factory.provider(for: UUID(), explicit: .telnyx)
        }
        #expect(error?.description.contains("TELNYX_CONFIGURATION") == true)
    }

    @Test func severalStoredProvidersNeedADefault() async throws {
        let stored = OrganizationTelephonyConfiguration(
            providers: [.twilio: .init(current: Self.twilio), .plivo: .init(current: Self.plivo)])
        let (ambiguous, _) = factory(stored: stored)
        await #expect(throws: ProviderResolutionError.self) { try await ambiguous.provider(for: UUID()) }
        var chosen = stored
        chosen.defaultProvider = .plivo
        let (decided, _) = factory(stored: chosen)
        #expect(try await decided.provider(for: UUID()).name == .plivo)
    }

    @Test func aCacheHitReadsNothingAndSurvivesTheSourceGoingDown() async throws {
        let (factory, source) = factory(stored: .init(providers: [.twilio: .init(current: Self.twilio)]))
        let organization = UUID()
        _ = try await factory.provider(for: organization)
        source.isDown.withLock { $0 = true }
        for _ in 0..<5 { #expect(try await factory.provider(for: organization).name == .twilio) }
        #expect(source.reads.withLock { $0 } == 1)
        #expect(factory.cacheStatistics.hits == 5)
        factory.invalidate(organizationID: organization)
        await #expect(throws: CountingSource.Down.self) { try await factory.provider(for: organization) }
    }

    /// Entries expire after their time to live even when no invalidation ever arrives (a change
    /// feed that went deaf), so stale credentials are served for at most that long.
    @Test func cachedEntriesExpireAfterTheirTimeToLive() async throws {
        let source = CountingSource(.init(providers: [.twilio: .init(current: Self.twilio)]))
        let factory = ProviderFactory(source: source, environment: .init(), http: http, cacheTimeToLive: .milliseconds(300))
        let organization = UUID()
        _ = try await factory.provider(for: organization)
        _ = try await factory.provider(for: organization)
        #expect(source.reads.withLock { $0 } == 1, "within its lifetime the entry is served from the cache")
        source.configuration.withLock { $0 = .init(providers: [.plivo: .init(current: Self.plivo)]) }
        try await Task.sleep(for: .milliseconds(450))
        #expect(try await factory.provider(for: organization).name == .plivo)
        #expect(source.reads.withLock { $0 } == 2)
    }

    @Test func theCacheIsBounded() async throws {
        let source = CountingSource(.init(providers: [.twilio: .init(current: Self.twilio)]))
        let factory = ProviderFactory(source: source, environment: .init(), http: http, cacheCapacity: 100)
        for _ in 0..<1_000 { _ = try await factory.provider(for: UUID()) }
        #expect(factory.cacheStatistics.entries <= 100)
    }

    @Test func aPreviousSecretIsUsedOnlyWhileItsGraceWindowIsOpen() async throws {
        var previous = Self.twilio
        previous["auth_token"] = "00000000000000000000000000000001"
        let credentials = ProviderCredentials(
            current: Self.twilio, previous: previous, previousValidUntil: Date(timeIntervalSince1970: 1_000))
        let url = "https://example.com/hook"
        let params = [("CallSid", "CA1"), ("CallStatus", "ringing")]
        let signedWithPrevious = TwilioSignature.compute(
            authToken: "00000000000000000000000000000001", url: url, parameters: params)
        let body = Array(params.map { "\($0.0)=\($0.1)" }.joined(separator: "&").utf8)
        let request = WebhookRequest(
            method: "POST", url: url,
            headers: [("X-Twilio-Signature", signedWithPrevious), ("Content-Type", "application/x-www-form-urlencoded")],
            body: body)
        let factory = ProviderFactory(
            source: CountingSource(.init(providers: [.twilio: credentials])), environment: .init(), http: http)
        let provider = try await factory.provider(for: UUID())
        try provider.verifyWebhook(request, now: Date(timeIntervalSince1970: 999))
        #expect(throws: WebhookVerificationError.self) {
            try provider.verifyWebhook(request, now: Date(timeIntervalSince1970: 1_001))
        }
    }
}

@Suite struct EnvironmentProviderConfigurationTests {
    @Test func readsACompleteProviderAndTheDefault() throws {
        let configuration = try EnvironmentProviderConfiguration.load(from: [
            "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "fedcba9876543210fedcba9876543210",
            "TWILIO_FROM_NUMBER": "+14155550100, +14155550101", "TELEPHONY_PROVIDER": "twilio",
        ])
        #expect(configuration.defaultProvider == .twilio)
        #expect(configuration.providers[.twilio]?.current["from_numbers"] == ["+14155550100", "+14155550101"])
    }

    @Test func namesEveryBadVariableAndNeverItsValue() {
        let error = #expect(throws: ConfigurationValidationError.self) {
            try EnvironmentProviderConfiguration.load(from: [
                "TWILIO_ACCOUNT_SID": "nope", "TWILIO_AUTH_TOKEN": "secret-value-that-is-wrong", "TELEPHONY_PROVIDER": "skype",
            ])
        }
        let fields = Set(error?.errors.map(\.field) ?? [])
        #expect(fields.isSuperset(of: ["TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "TELEPHONY_PROVIDER"]))
        #expect(error?.description.contains("secret-value-that-is-wrong") == false)
    }

    @Test func anEmptyEnvironmentConfiguresNothing() throws {
        let configuration = try EnvironmentProviderConfiguration.load(from: [:])
        #expect(configuration.providers.isEmpty)
        #expect(configuration.defaultProvider == nil)
    }
}
