import Crypto

/// Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1 of the URL followed by the sorted POST parameters.
public enum TwilioSignature {
    /// The header that carries the signature, lowercased.
    static let header = "x-twilio-signature"

    /// The signature Twilio sends for `url` (exactly as given) and `parameters`.
    public static func compute(authToken: String, url: String, parameters: [(String, String)]) -> String {
        var signed = url
        var previous: (String, String)?
        // Twilio signs each distinct (name, value) once, names and values in code-point order.
        for pair in WebhookForm.sorted(parameters) {
            if let previous, WebhookForm.same(previous.0, pair.0), WebhookForm.same(previous.1, pair.1) {
                continue
            }
            signed += pair.0 + pair.1
            previous = pair
        }
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(signed.utf8), using: SymmetricKey(data: Array(authToken.utf8)))
        return WebhookEncoding.base64(mac)
    }

    /// Whether `signature` is Twilio's for `url` with or without its port (an explicit port removed, or the default one added).
    public static func isValid(signature: String, authToken: String, url: String, parameters: [(String, String)]) -> Bool {
        // Anyone can compute an HMAC under an empty key.
        guard !authToken.isEmpty else {
            return false
        }
        var matched = false
        for candidate in urlSpellings(url) {
            let expected = compute(authToken: authToken, url: candidate, parameters: parameters)
            if ConstantTime.equals(expected.utf8, signature.utf8) {
                matched = true
            }
        }
        return matched
    }

    /// Verifies a form webhook, or a JSON one whose URL carries `bodySHA256`: the body must hash to it and the URL alone is signed.
    public static func verify(_ request: WebhookRequest, authToken: String) throws(WebhookVerificationError) {
        guard let signature = request.headers[header] else {
            throw .missingSignature(header)
        }
        let query = WebhookForm.parse(Array((WebhookURL(request.url)?.query ?? "").utf8))
        let parameters: [(String, String)]
        if let bodyHash = query.first(where: { $0.0 == "bodySHA256" })?.1 {
            let actual = WebhookEncoding.hex(SHA256.hash(data: request.body))
            guard ConstantTime.equals(actual.utf8, bodyHash.lowercased().utf8) else {
                throw .invalidSignature
            }
            parameters = []
        } else {
            // GET parameters are already part of the signed URL.
            parameters = request.isGet ? [] : request.formParameters
        }
        guard isValid(signature: signature, authToken: authToken, url: request.url, parameters: parameters) else {
            throw .invalidSignature
        }
    }

    /// `url` as given, then with its port removed or the scheme's default port added; Twilio is inconsistent about which it signs.
    static func urlSpellings(_ url: String) -> [String] {
        guard let parsed = WebhookURL(url) else {
            return [url]
        }
        let alternative = parsed.port == nil ? parsed.addingDefaultPort : parsed.removingPort
        return [url, alternative.string]
    }
}
