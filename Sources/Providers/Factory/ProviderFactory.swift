import Foundation
import Logging
import Synchronization

/// Which organizations may use the providers configured in the environment (OSS mode). In a
/// multi-tenant deployment the operator's credentials must not serve every tenant.
public enum EnvironmentProviderScope: Sendable, Equatable {
    /// No organization: the environment's providers are unused.
    case none
    /// Every organization (single-tenant deployments).
    case all
    /// Only these organizations.
    case organizations(Set<UUID>)

    func allows(_ organizationID: UUID) -> Bool {
        switch self {
        case .none: false
        case .all: true
        case .organizations(let ids): ids.contains(organizationID)
        }
    }
}

/// Why no provider could be resolved; the message says what to configure.
public struct ProviderResolutionError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

/// Resolves an organization's telephony provider: its stored configuration first, then the
/// environment (OSS mode), else a clear error. Each organization's providers are built once
/// (documents validated, clients bound) and cached in a bounded LRU for at most
/// `cacheTimeToLive`; a cache hit touches no database and validates nothing again.
public final class ProviderFactory: Sendable {
    let source: any ProviderConfigurationSource
    let environment: ResolvedProviders
    let http: ProviderHTTPClient
    let endpoints: ProviderEndpoints
    let cache: ConfigurationCache
    let environmentScope: EnvironmentProviderScope
    /// Counts cache hits and misses.
    let metrics: any ProviderMetrics

    public init(
        source: any ProviderConfigurationSource, environment: OrganizationTelephonyConfiguration, http: ProviderHTTPClient,
        endpoints: ProviderEndpoints = .init(), environmentScope: EnvironmentProviderScope = .all,
        cacheCapacity: Int = 10_000, cacheTimeToLive: Duration = ConfigurationCache.defaultTimeToLive,
        metrics: any ProviderMetrics = NoProviderMetrics()
    ) {
        self.source = source
        self.metrics = metrics
        self.environmentScope = environmentScope
        self.http = http
        self.endpoints = endpoints
        self.cache = ConfigurationCache(capacity: cacheCapacity, timeToLive: cacheTimeToLive)
        self.environment = ResolvedProviders(environment, http: http, endpoints: endpoints)
    }

    /// The organization's provider: `explicit` when given (it must be configured), else its default.
    public func provider(for organizationID: UUID, explicit: ProviderName? = nil) async throws -> any TelephonyProvider {
        let stored = try await resolved(for: organizationID)
        let environment = environmentScope.allows(organizationID) ? self.environment : ResolvedProviders.empty
        let name = try choose(explicit: explicit, stored: stored, environment: environment)
        if let built = stored.providers[name] ?? environment.providers[name] { return try built.get() }
        throw ProviderResolutionError(
            description:
                "\(name.rawValue) is not configured for this organization: store \(name.configurationKey.rawValue) or set its environment variables")
    }

    /// The organization's provider `name` for webhook verification and parsing.
    public func provider(for organizationID: UUID, named name: ProviderName) async throws -> any TelephonyProvider {
        try await provider(for: organizationID, explicit: name)
    }

    /// Drops one organization's cached configuration (a write happened somewhere).
    public func invalidate(organizationID: UUID) {
        cache.invalidate(organizationID)
    }

    /// Drops every cached configuration (e.g. after the change feed reconnected).
    public func invalidateAll() {
        cache.invalidateAll()
    }

    /// Cache statistics, for metrics and tests.
    public var cacheStatistics: ConfigurationCache.Statistics { cache.statistics }

    func resolved(for organizationID: UUID) async throws -> ResolvedProviders {
        if let cached = cache.value(for: organizationID) {
            metrics.providerCacheLookup(hit: true)
            return cached
        }
        metrics.providerCacheLookup(hit: false)
        let epoch = cache.epoch
        let loaded = ResolvedProviders(
            try await source.telephonyConfiguration(for: organizationID), http: http, endpoints: endpoints)
        cache.store(loaded, for: organizationID, loadedAt: epoch)
        return loaded
    }

    func choose(explicit: ProviderName?, stored: ResolvedProviders, environment: ResolvedProviders) throws -> ProviderName {
        if let explicit { return explicit }
        if let chosen = stored.defaultProvider { return chosen }
        if stored.providers.count == 1, let only = stored.providers.keys.first { return only }
        if stored.providers.count > 1 {
            throw ProviderResolutionError(
                description:
                    "several providers are configured (\(stored.providers.keys.map(\.rawValue).sorted().joined(separator: ", "))); store TELEPHONY_PROVIDER to choose the default, or name 'provider' in the request")
        }
        if let chosen = environment.defaultProvider { return chosen }
        if environment.providers.count == 1, let only = environment.providers.keys.first { return only }
        if environment.providers.count > 1 {
            throw ProviderResolutionError(
                description: "several providers are set in the environment; set TELEPHONY_PROVIDER to choose the default")
        }
        throw ProviderResolutionError(
            description:
                "no telephony provider is configured: store TWILIO_CONFIGURATION, TELNYX_CONFIGURATION, VONAGE_CONFIGURATION or PLIVO_CONFIGURATION (and TELEPHONY_PROVIDER), or set the provider's environment variables")
    }
}

/// One organization's providers, built: each document validated once into its typed
/// configuration and bound to the shared HTTP client (or the validation error, kept to report).
struct ResolvedProviders: Sendable {
    let providers: [ProviderName: Result<any TelephonyProvider, ConfigurationValidationError>]
    let defaultProvider: ProviderName?

    /// No providers at all.
    static let empty = ResolvedProviders(providers: [:], defaultProvider: nil)

    private init(providers: [ProviderName: Result<any TelephonyProvider, ConfigurationValidationError>], defaultProvider: ProviderName?) {
        self.providers = providers
        self.defaultProvider = defaultProvider
    }

    init(_ configuration: OrganizationTelephonyConfiguration, http: ProviderHTTPClient, endpoints: ProviderEndpoints) {
        var providers: [ProviderName: Result<any TelephonyProvider, ConfigurationValidationError>] = [:]
        for (name, credentials) in configuration.providers {
            providers[name] = Result { () throws(ConfigurationValidationError) -> any TelephonyProvider in
                try Self.make(name, credentials, http: http, endpoints: endpoints)
            }
        }
        self.providers = providers
        self.defaultProvider = configuration.defaultProvider
    }

    static func make(
        _ name: ProviderName, _ credentials: ProviderCredentials, http: ProviderHTTPClient, endpoints: ProviderEndpoints
    ) throws(ConfigurationValidationError) -> any TelephonyProvider {
        let previous = credentials.previous
        let until = credentials.previousValidUntil
        switch name {
        case .twilio:
            return TwilioProvider(
                configuration: try TwilioConfiguration(document: credentials.current),
                previous: try previous.map { document throws(ConfigurationValidationError) in try TwilioConfiguration(document: document) },
                previousValidUntil: until, http: http, baseURL: endpoints.twilio)
        case .telnyx:
            return TelnyxProvider(
                configuration: try TelnyxConfiguration(document: credentials.current),
                previous: try previous.map { document throws(ConfigurationValidationError) in try TelnyxConfiguration(document: document) },
                previousValidUntil: until, http: http, baseURL: endpoints.telnyx)
        case .vonage:
            return VonageProvider(
                configuration: try VonageConfiguration(document: credentials.current),
                previous: try previous.map { document throws(ConfigurationValidationError) in try VonageConfiguration(document: document) },
                previousValidUntil: until, http: http, baseURL: endpoints.vonage, restBaseURL: endpoints.vonageREST)
        case .plivo:
            return PlivoProvider(
                configuration: try PlivoConfiguration(document: credentials.current),
                previous: try previous.map { document throws(ConfigurationValidationError) in try PlivoConfiguration(document: document) },
                previousValidUntil: until, http: http, baseURL: endpoints.plivo)
        }
    }
}

/// A bounded, approximately-LRU cache of opened configurations. When full, the least recently
/// used tenth is evicted at once, so eviction costs O(log n) per insert amortized. Entries also
/// expire `timeToLive` after they were loaded, so a missed invalidation (a change feed that went
/// deaf) cannot keep stale credentials for longer than that.
public final class ConfigurationCache: Sendable {
    /// Hit and miss counts.
    public struct Statistics: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        public var entries = 0
    }

    struct Entry {
        var value: ResolvedProviders
        var lastUsed: UInt64
        var loadedAt: ContinuousClock.Instant
    }

    struct State {
        var entries: [UUID: Entry] = [:]
        var clock: UInt64 = 0
        /// Bumped by every invalidation: a load that began before one is not cached.
        var epoch: UInt64 = 0
        var statistics = Statistics()
    }

    let capacity: Int
    /// How long an entry is served after it was loaded.
    let timeToLive: Duration
    private let state = Mutex(State())

    init(capacity: Int, timeToLive: Duration = ConfigurationCache.defaultTimeToLive) {
        self.capacity = max(1, capacity)
        self.timeToLive = timeToLive
    }

    /// Five minutes.
    public static let defaultTimeToLive: Duration = .seconds(300)

    var epoch: UInt64 { state.withLock { $0.epoch } }
    var statistics: Statistics { state.withLock { var s = $0.statistics; s.entries = $0.entries.count; return s } }

    func value(for key: UUID) -> ResolvedProviders? {
        state.withLock { state in
            state.clock += 1
            guard var entry = state.entries[key], entry.loadedAt.duration(to: .now) < timeToLive else {
                state.entries.removeValue(forKey: key)
                state.statistics.misses += 1
                return nil
            }
            state.statistics.hits += 1
            entry.lastUsed = state.clock
            state.entries[key] = entry
            return entry.value
        }
    }

    func store(_ value: ResolvedProviders, for key: UUID, loadedAt epoch: UInt64) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            state.clock += 1
            state.entries[key] = Entry(value: value, lastUsed: state.clock, loadedAt: .now)
            if state.entries.count > capacity {
                let evict = max(1, capacity / 10)
                let oldest = state.entries.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(evict).map(\.key)
                for key in oldest { state.entries.removeValue(forKey: key) }
            }
        }
    }

    func invalidate(_ key: UUID) {
        state.withLock { state in
            state.epoch += 1
            state.entries.removeValue(forKey: key)
        }
    }

    func invalidateAll() {
        state.withLock { state in
            state.epoch += 1
            state.entries.removeAll()
        }
    }
}
