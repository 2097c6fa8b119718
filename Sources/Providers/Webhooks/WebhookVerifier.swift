import Foundation

/// Verifies with each candidate secret in turn (current first, then the previous one during a rotation grace window).
public enum WebhookVerifier {
    /// Accepts `request` when any of `provider`'s secrets in `secrets` verifies it; otherwise throws the first secret's error.
    ///
    /// Secrets for other providers are ignored; with none for `provider`, throws `malformed`.
    public static func verify(
        _ request: WebhookRequest, provider: ProviderName, secrets: [WebhookSecret], now: Date
    ) throws(WebhookVerificationError) {
        let candidates = secrets.filter { $0.provider == provider }
        guard !candidates.isEmpty else {
            throw .malformed("no \(provider.rawValue) webhook secret is configured")
        }
        var firstError: WebhookVerificationError?
        for secret in candidates {
            do throws(WebhookVerificationError) {
                try verify(request, with: secret, now: now)
                return
            } catch {
                // The current secret's error is the one worth reporting; a previous secret failing is expected.
                firstError = firstError ?? error
            }
        }
        throw firstError ?? .invalidSignature
    }

    private static func verify(_ request: WebhookRequest, with secret: WebhookSecret, now: Date) throws(WebhookVerificationError) {
        switch secret {
        case .twilioAuthToken(let token):
            try TwilioSignature.verify(request, authToken: token)
        case .telnyxPublicKey(let key):
            try TelnyxSignature.verify(request, publicKey: key, now: now)
        case .vonageSignatureSecret(let secret):
            try VonageSignature.verify(request, signatureSecret: secret, now: now)
        case .plivoAuthToken(let token):
            try PlivoSignature.verify(request, authToken: token)
        }
    }
}
