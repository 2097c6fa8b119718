import Foundation

/// One provider's opened configuration: the current document and, during a rotation grace
/// window, the previous one (for webhook verification only).
public struct ProviderCredentials: Sendable {
    public var current: [String: JSONValue]
    public var previous: [String: JSONValue]?
    /// When `previous` stops being usable.
    public var previousValidUntil: Date?

    public init(current: [String: JSONValue], previous: [String: JSONValue]? = nil, previousValidUntil: Date? = nil) {
        self.current = current
        self.previous = previous
        self.previousValidUntil = previousValidUntil
    }
}

/// Everything an organization stored for telephony, opened.
public struct OrganizationTelephonyConfiguration: Sendable {
    public var providers: [ProviderName: ProviderCredentials]
    /// The stored `TELEPHONY_PROVIDER` choice, if any.
    public var defaultProvider: ProviderName?

    public init(providers: [ProviderName: ProviderCredentials] = [:], defaultProvider: ProviderName? = nil) {
        self.providers = providers
        self.defaultProvider = defaultProvider
    }
}

/// Where the factory reads an organization's stored configuration (PostgreSQL, in the app).
public protocol ProviderConfigurationSource: Sendable {
    /// The organization's opened telephony configuration; empty when it stored none.
    func telephonyConfiguration(for organizationID: UUID) async throws -> OrganizationTelephonyConfiguration
}

/// Provider base URLs: the real APIs by default, overridable for regions and the simulators.
public struct ProviderEndpoints: Sendable, Equatable {
    public var twilio = TwilioProvider.defaultBaseURL
    public var telnyx = TelnyxProvider.defaultBaseURL
    public var vonage = VonageProvider.defaultBaseURL
    public var vonageREST = VonageProvider.defaultRESTBaseURL
    public var plivo = PlivoProvider.defaultBaseURL

    public init() {}
}
