/// The telephony providers Switchboard speaks.
public enum ProviderName: String, CaseIterable, Sendable, Codable {
    case twilio
    case telnyx
    case vonage
    case plivo

    /// The configuration key under which this provider's credentials are stored.
    public var configurationKey: ConfigurationKey {
        switch self {
        case .twilio: .twilio
        case .telnyx: .telnyx
        case .vonage: .vonage
        case .plivo: .plivo
        }
    }
}
