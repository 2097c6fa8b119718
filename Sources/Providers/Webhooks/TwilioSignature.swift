import Crypto

/// Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1 of the URL followed by the sorted POST parameters.
public enum TwilioSignature {
    /// The header that carries the signature, lowercased.
    static let header = "x-twilio-signature"

    /// The signature Twilio sends for `url` (exactly as given) and `parameters`.
    public static func compute(authToken: String, url: String, parameters: [(String, String)]) -> String {
        let mac = authenticationCode(
            key: SymmetricKey(data: Array(authToken.utf8)), url: url, signedParameters: signedParameters(parameters))
        return String(decoding: WebhookEncoding.base64Bytes(mac), as: UTF8.self)
    }

    /// Whether `signature` is Twilio's for `url` with or without its port (an explicit port removed, or the default one added).
    public static func isValid(signature: String, authToken: String, url: String, parameters: [(String, String)]) -> Bool {
        isValid(signature: signature, authToken: authToken, url: url, parsedURL: WebhookURL(url),
                signedParameters: signedParameters(parameters))
    }

    /// Verifies a form webhook, or a JSON one whose URL carries `bodySHA256`: the body must hash to it and the URL alone is signed.
    public static func verify(_ request: WebhookRequest, authToken: String) throws(WebhookVerificationError) {
        guard let signature = request.headers[header] else {
            throw .missingSignature(header)
        }
        let url = WebhookURL(request.url)
        let query = WebhookForm.parse(Array((url?.query ?? "").utf8))
        let parameters: [(String, String)]
        if let bodyHash = query.first(where: { $0.0 == "bodySHA256" })?.1 {
            let actual = WebhookEncoding.hex(SHA256.hash(data: request.body))
            guard ConstantTime.equals(actual.utf8, bodyHash.lowercased().utf8) else {
                throw .invalidSignature
            }
            parameters = []
        } else {
            // GET parameters are already part of the signed URL.
            parameters = request.isGet ? [] : WebhookForm.parse(request.body)
        }
        guard
            isValid(signature: signature, authToken: authToken, url: request.url, parsedURL: url,
                    signedParameters: signedParameters(parameters))
        else {
            throw .invalidSignature
        }
    }

    /// Checks the URL as given first and computes the other spelling only when that fails: one
    /// HMAC for the usual request, two at most. Each comparison is constant-time.
    static func isValid(
        signature: String, authToken: String, url: String, parsedURL: WebhookURL?, signedParameters: [UInt8]
    ) -> Bool {
        // Anyone can compute an HMAC under an empty key.
        guard !authToken.isEmpty else {
            return false
        }
        let key = SymmetricKey(data: Array(authToken.utf8))
        let presented = Array(signature.utf8)
        if ConstantTime.equals(WebhookEncoding.base64Bytes(authenticationCode(key: key, url: url, signedParameters: signedParameters)), presented) {
            return true
        }
        guard let parsedURL else {
            return false
        }
        let alternative = (parsedURL.port == nil ? parsedURL.addingDefaultPort : parsedURL.removingPort).string
        return ConstantTime.equals(
            WebhookEncoding.base64Bytes(authenticationCode(key: key, url: alternative, signedParameters: signedParameters)), presented)
    }

    /// HMAC-SHA1 of the URL's UTF-8 followed by `signedParameters`, fed in place (no joined string).
    static func authenticationCode(key: SymmetricKey, url: String, signedParameters: [UInt8]) -> HashedAuthenticationCode<Insecure.SHA1> {
        var hmac = HMAC<Insecure.SHA1>(key: key)
        var url = url
        url.withUTF8 { hmac.update(data: $0) }
        signedParameters.withUnsafeBytes { hmac.update(data: $0) }
        return hmac.finalize()
    }

    /// The part Twilio appends to the URL: each distinct (name, value) once, names then values in
    /// code-point order, as name ‖ value bytes.
    static func signedParameters(_ parameters: [(String, String)]) -> [UInt8] {
        var signed: [UInt8] = []
        signed.reserveCapacity(parameters.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count })
        var previous: (String, String)?
        for pair in WebhookForm.sorted(parameters) {
            if let previous, WebhookForm.same(previous.0, pair.0), WebhookForm.same(previous.1, pair.1) {
                continue
            }
            signed.append(contentsOf: pair.0.utf8)
            signed.append(contentsOf: pair.1.utf8)
            previous = pair
        }
        return signed
    }
}
