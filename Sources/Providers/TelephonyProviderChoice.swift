/// The provider an organization uses, read from a validated `TELEPHONY_PROVIDER` document.
public struct TelephonyProviderChoice: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The chosen provider.
    public var provider: ProviderName

    /// Validates `document` against the provider-choice schema and reads the chosen provider.
    public init(document: [String: JSONValue]) throws(ConfigurationValidationError) {
        let validated = try ValidatedDocument(document, key: .telephonyProvider)
        let name = try validated.requiredString("provider")
        guard let provider = ProviderName(rawValue: name) else {
            let names = ProviderName.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationValidationError(field: "provider", problem: "must be one of \(names)")
        }
        self.provider = provider
    }

    /// Creates a choice of `provider` directly.
    public init(provider: ProviderName) {
        self.provider = provider
    }

    /// The choice, as in `TelephonyProviderChoice(provider: twilio)`; it holds no secrets.
    public var description: String {
        "TelephonyProviderChoice(provider: \(provider.rawValue))"
    }

    /// The same description as `description`.
    public var debugDescription: String {
        description
    }
}
