/// Why a webhook was refused. Messages never contain secrets or signatures.
public enum WebhookVerificationError: Error, Equatable, CustomStringConvertible {
    /// A header the provider always sends is absent; names the header.
    case missingSignature(String)
    /// The signature does not match the request under any candidate secret.
    case invalidSignature
    /// The signature is authentic but its timestamp is outside the allowed window.
    case staleTimestamp
    /// The request or configured secret cannot be verified as given; says what is wrong, never with secret values.
    case malformed(String)

    /// A log-safe explanation.
    public var description: String {
        switch self {
        case .missingSignature(let header): "webhook is missing the \(header) header"
        case .invalidSignature: "webhook signature is invalid"
        case .staleTimestamp: "webhook timestamp is outside the allowed window"
        case .malformed(let reason): "webhook cannot be verified: \(reason)"
        }
    }
}
