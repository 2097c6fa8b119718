/// The configuration keys an organization can store.
public enum ConfigurationKey: String, CaseIterable, Sendable, Codable {
    case twilio = "TWILIO_CONFIGURATION"
    case telnyx = "TELNYX_CONFIGURATION"
    case vonage = "VONAGE_CONFIGURATION"
    case plivo = "PLIVO_CONFIGURATION"
    case telephonyProvider = "TELEPHONY_PROVIDER"
    case recordingPolicy = "RECORDING_POLICY"

    /// The provider whose credentials this key holds; nil for the provider choice and the policies.
    public var provider: ProviderName? {
        switch self {
        case .twilio: .twilio
        case .telnyx: .telnyx
        case .vonage: .vonage
        case .plivo: .plivo
        case .telephonyProvider, .recordingPolicy: nil
        }
    }
}
