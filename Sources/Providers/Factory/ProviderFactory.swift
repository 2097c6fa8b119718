import Foundation
import Logging
import Synchronization

/// Why no provider could be resolved; the message says what to configure.
public struct ProviderResolutionError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

/// Resolves an organization's telephony provider: its stored configuration first, then the
/// environment (OSS mode), else a clear error. Opened configurations are cached per organization
/// in a bounded LRU; a cache hit touches no database.
public final class ProviderFactory: Sendable {
    let source: any ProviderConfigurationSource
    let environment: OrganizationTelephonyConfiguration
    let http: ProviderHTTPClient
    let endpoints: ProviderEndpoints
    let cache: ConfigurationCache
    let now: @Sendable () -> Date

    public init(
        source: any ProviderConfigurationSource, environment: OrganizationTelephonyConfiguration, http: ProviderHTTPClient,
        endpoints: ProviderEndpoints = .init(), cacheCapacity: Int = 10_000, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.source = source
        self.environment = environment
        self.http = http
        self.endpoints = endpoints
        self.cache = ConfigurationCache(capacity: cacheCapacity)
        self.now = now
    }

    /// The organization's provider: `explicit` when given (it must be configured), else its default.
    public func provider(for organizationID: UUID, explicit: ProviderName? = nil) async throws -> any TelephonyProvider {
        let stored = try await configuration(for: organizationID)
        let name = try choose(explicit: explicit, stored: stored)
        guard let credentials = stored.providers[name] ?? environment.providers[name] else {
            throw ProviderResolutionError(
                description:
                    "\(name.rawValue) is not configured for this organization: store \(name.configurationKey.rawValue) or set its environment variables")
        }
        return try make(name, credentials)
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

    func configuration(for organizationID: UUID) async throws -> OrganizationTelephonyConfiguration {
        if let cached = cache.value(for: organizationID) { return cached }
        let epoch = cache.epoch
        let loaded = try await source.telephonyConfiguration(for: organizationID)
        cache.store(loaded, for: organizationID, loadedAt: epoch)
        return loaded
    }

    func choose(explicit: ProviderName?, stored: OrganizationTelephonyConfiguration) throws -> ProviderName {
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

    func make(_ name: ProviderName, _ credentials: ProviderCredentials) throws -> any TelephonyProvider {
        let previous = credentials.previous(at: now())
        switch name {
        case .twilio:
            return TwilioProvider(
                configuration: try TwilioConfiguration(document: credentials.current),
                previous: try previous.map(TwilioConfiguration.init(document:)), http: http, baseURL: endpoints.twilio)
        case .telnyx:
            return TelnyxProvider(
                configuration: try TelnyxConfiguration(document: credentials.current),
                previous: try previous.map(TelnyxConfiguration.init(document:)), http: http, baseURL: endpoints.telnyx)
        case .vonage:
            return VonageProvider(
                configuration: try VonageConfiguration(document: credentials.current),
                previous: try previous.map(VonageConfiguration.init(document:)), http: http, baseURL: endpoints.vonage,
                restBaseURL: endpoints.vonageREST)
        case .plivo:
            return PlivoProvider(
                configuration: try PlivoConfiguration(document: credentials.current),
                previous: try previous.map(PlivoConfiguration.init(document:)), http: http, baseURL: endpoints.plivo)
        }
    }
}

/// A bounded, approximately-LRU cache of opened configurations. When full, the least recently
/// used tenth is evicted at once, so eviction costs O(log n) per insert amortized.
public final class ConfigurationCache: Sendable {
    /// Hit and miss counts.
    public struct Statistics: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        public var entries = 0
    }

    struct Entry {
        var value: OrganizationTelephonyConfiguration
        var lastUsed: UInt64
    }

    struct State {
        var entries: [UUID: Entry] = [:]
        var clock: UInt64 = 0
        /// Bumped by every invalidation: a load that began before one is not cached.
        var epoch: UInt64 = 0
        var statistics = Statistics()
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var epoch: UInt64 { state.withLock { $0.epoch } }
    var statistics: Statistics { state.withLock { var s = $0.statistics; s.entries = $0.entries.count; return s } }

    func value(for key: UUID) -> OrganizationTelephonyConfiguration? {
        state.withLock { state in
            state.clock += 1
            guard var entry = state.entries[key] else {
                state.statistics.misses += 1
                return nil
            }
            state.statistics.hits += 1
            entry.lastUsed = state.clock
            state.entries[key] = entry
            return entry.value
        }
    }

    func store(_ value: OrganizationTelephonyConfiguration, for key: UUID, loadedAt epoch: UInt64) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            state.clock += 1
            state.entries[key] = Entry(value: value, lastUsed: state.clock)
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
