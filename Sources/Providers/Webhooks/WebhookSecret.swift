/// A secret (or, for Telnyx, public key) that verifies one provider's webhooks.
public enum WebhookSecret: Sendable {
    /// A Twilio account auth token; secret.
    case twilioAuthToken(String)
    /// A Telnyx account's Ed25519 public key, as standard base64 of its 32 bytes.
    case telnyxPublicKey(String)
    /// A Vonage signature secret; secret.
    case vonageSignatureSecret(String)
    /// A Plivo (sub)account auth token; secret.
    case plivoAuthToken(String)

    /// The provider whose webhooks this verifies.
    public var provider: ProviderName {
        switch self {
        case .twilioAuthToken: .twilio
        case .telnyxPublicKey: .telnyx
        case .vonageSignatureSecret: .vonage
        case .plivoAuthToken: .plivo
        }
    }
}

extension WebhookSecret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A log-safe description: secrets redacted, the Telnyx public key shown.
    public var description: String {
        switch self {
        case .twilioAuthToken: "WebhookSecret.twilioAuthToken(\(RedactedDescription.placeholder))"
        case .telnyxPublicKey(let key): "WebhookSecret.telnyxPublicKey(\(String(reflecting: key)))"
        case .vonageSignatureSecret: "WebhookSecret.vonageSignatureSecret(\(RedactedDescription.placeholder))"
        case .plivoAuthToken: "WebhookSecret.plivoAuthToken(\(RedactedDescription.placeholder))"
        }
    }

    /// The same log-safe description, so `String(reflecting:)` redacts secrets too.
    public var debugDescription: String {
        description
    }

    /// A mirror with no children, so `dump` and other reflection do not reveal secrets.
    public var customMirror: Mirror {
        Mirror(self, children: [(label: String?, value: Any)](), displayStyle: .enum)
    }
}

extension TwilioConfiguration {
    /// The auth token, as the secret that verifies Twilio webhooks.
    public var webhookSecret: WebhookSecret {
        .twilioAuthToken(authToken)
    }
}

extension TelnyxConfiguration {
    /// The public key, as what verifies Telnyx webhooks.
    public var webhookSecret: WebhookSecret {
        .telnyxPublicKey(publicKey)
    }
}

extension VonageConfiguration {
    /// The signature secret, as the secret that verifies signed Vonage webhooks; nil when none is configured.
    public var webhookSecret: WebhookSecret? {
        signatureSecret.map(WebhookSecret.vonageSignatureSecret)
    }
}

extension PlivoConfiguration {
    /// The auth token, as the secret that verifies Plivo webhooks.
    public var webhookSecret: WebhookSecret {
        .plivoAuthToken(authToken)
    }
}
