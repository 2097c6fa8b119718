import Crypto
import Foundation

/// The signature schemes of the form-encoded webhooks (Twilio, Plivo), as the providers compute them.
public enum WebhookSignatures {
    /// `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + each parameter name and value, sorted by name then value)).
    public static func twilio(authToken: String, url: String, parameters: [(String, String)]) -> String {
        // Twilio's reference implementation signs each distinct value once.
        var signed = url
        for (name, values) in grouped(parameters) {
            var seen: Set<String> = []
            for value in values where seen.insert(value).inserted {
                signed += name + value
            }
        }
        let code = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(signed.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(code).base64EncodedString()
    }

    /// `X-Plivo-Signature-V2`: base64(HMAC-SHA256(auth token, URL without query + nonce)).
    public static func plivoV2(authToken: String, url: String, nonce: String) -> String {
        hmacSHA256(key: authToken, message: urlWithoutQuery(url) + nonce)
    }

    /// `X-Plivo-Signature-V3`: base64(HMAC-SHA256(auth token, signed URL + "." + nonce)), the signed URL built as plivo's `signature_v3`.
    public static func plivoV3(
        authToken: String, method: String, url: String, parameters: [(String, String)], nonce: String
    ) -> String {
        hmacSHA256(key: authToken, message: plivoV3BaseURL(method: method, url: url, parameters: parameters) + "." + nonce)
    }

    /// The string Plivo V3 signs before the nonce.
    static func plivoV3BaseURL(method: String, url: String, parameters: [(String, String)]) -> String {
        let base = urlWithoutQuery(url)
        let queryParameters = url.split(separator: "?", maxSplits: 1).dropFirst().first.map {
            FormEncoding.decode(String($0.split(separator: "#", maxSplits: 1).first ?? ""))
        } ?? []
        if method.uppercased() == "GET" {
            let query = sortedQuery(grouped(parameters + queryParameters))
            return query.isEmpty ? base : base + "?" + query
        }
        let query = sortedQuery(grouped(queryParameters))
        var signed = base
        if !query.isEmpty || !parameters.isEmpty { signed += "?" + query }
        if !query.isEmpty && !parameters.isEmpty { signed += "." }
        for (name, values) in grouped(parameters) {
            for value in values { signed += name + value }
        }
        return signed
    }

    private static func grouped(_ parameters: [(String, String)]) -> [(String, [String])] {
        var values: [String: [String]] = [:]
        for (name, value) in parameters { values[name, default: []].append(value) }
        return values.keys.sorted(by: precedes).map { name in
            (name, (values[name] ?? []).sorted(by: precedes))
        }
    }

    private static func sortedQuery(_ grouped: [(String, [String])]) -> String {
        grouped.map { name, values in values.map { "\(name)=\($0)" }.joined(separator: "&") }.joined(separator: "&")
    }

    private static func urlWithoutQuery(_ url: String) -> String {
        String(url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? url
    }

    private static func hmacSHA256(key: String, message: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Code-point order, as the providers' own sorting.
    private static func precedes(_ left: String, _ right: String) -> Bool {
        left.unicodeScalars.lexicographicallyPrecedes(right.unicodeScalars)
    }
}
