/// The configuration keys an organization can store.
public enum ConfigurationKey: String, CaseIterable, Sendable, Codable {
    case twilio = "TWILIO_CONFIGURATION"
    case telnyx = "TELNYX_CONFIGURATION"
    case vonage = "VONAGE_CONFIGURATION"
    case plivo = "PLIVO_CONFIGURATION"
    case telephonyProvider = "TELEPHONY_PROVIDER"
    case callPolicy = "CALL_POLICY"
    /// The organization's Odoo (contact sync and outcome write-back); not a telephony provider.
    case odoo = "ODOO_CONFIGURATION"
    /// Whether cold calls are recorded, and the announcement the contact hears first.
    case recordingPolicy = "RECORDING_POLICY"

    /// The provider whose credentials this key holds; nil for the provider choice and the policies.
    public var provider: ProviderName? {
        switch self {
        case .twilio: .twilio
        case .telnyx: .telnyx
        case .vonage: .vonage
        case .plivo: .plivo
        case .telephonyProvider, .callPolicy, .odoo, .recordingPolicy: nil
        }
    }
}
