import Crypto

/// Plivo's webhook signatures: V3 (`X-Plivo-Signature-V3`, over URL, parameters and nonce) and the older V2.
public enum PlivoSignature {
    /// The header that carries one or more comma-separated V3 signatures, lowercased.
    static let signatureHeader = "x-plivo-signature-v3"
    /// The header that carries the V3 nonce, lowercased.
    static let nonceHeader = "x-plivo-signature-v3-nonce"

    /// The V3 signature: base64 HMAC-SHA256 of the base string (see `baseString`) + "." + `nonce`.
    public static func computeV3(
        authToken: String, method: String, url: String, parameters: [(String, String)], nonce: String
    ) -> String {
        let signed = baseString(method: method, url: url, parameters: parameters) + "." + nonce
        return hmac(authToken: authToken, message: signed)
    }

    /// The V2 signature: base64 HMAC-SHA256 of the URL without its query, followed directly by `nonce`.
    public static func computeV2(authToken: String, url: String, nonce: String) -> String {
        hmac(authToken: authToken, message: baseURL(url) + nonce)
    }

    /// Verifies V3 headers; the request is genuine when any of the comma-separated signatures matches.
    public static func verify(_ request: WebhookRequest, authToken: String) throws(WebhookVerificationError) {
        guard let signatures = request.headers[signatureHeader] else {
            throw .missingSignature(signatureHeader)
        }
        guard let nonce = request.headers[nonceHeader] else {
            throw .missingSignature(nonceHeader)
        }
        // Anyone can compute an HMAC under an empty key.
        guard !authToken.isEmpty else {
            throw .invalidSignature
        }
        // GET parameters are read from the URL's query by `baseString`.
        let parameters = request.isGet ? [] : request.formParameters
        let expected = computeV3(
            authToken: authToken, method: request.method, url: request.url, parameters: parameters, nonce: nonce)
        var matched = false
        for candidate in signatures.split(separator: ",") {
            let trimmed = candidate.drop(while: { $0 == " " })
            if ConstantTime.equals(expected.utf8, trimmed.utf8) {
                matched = true
            }
        }
        guard matched else {
            throw .invalidSignature
        }
    }

    /// The string V3 signs before the nonce.
    ///
    /// GET: the base URL, then `?` and the query and `parameters` (query wins on a shared name) as sorted `name=value`
    /// joined by `&`, if any. POST: the base URL; if there are POST parameters, `?`, the sorted query, `.` when that
    /// query is not empty, then the sorted parameters as `namevalue` run together; with none, `?` and the query if any.
    static func baseString(method: String, url: String, parameters: [(String, String)]) -> String {
        let base = baseURL(url)
        let query = WebhookForm.parse(Array((WebhookURL(url)?.query ?? "").utf8))
        if method.uppercased() == "GET" {
            let kept = parameters.filter { parameter in !query.contains { WebhookForm.same($0.0, parameter.0) } }
            let queryString = sortedQueryString(kept + query)
            return queryString.isEmpty ? base : base + "?" + queryString
        }
        let queryString = sortedQueryString(query)
        if parameters.isEmpty {
            return queryString.isEmpty ? base : base + "?" + queryString
        }
        let parameterString = WebhookForm.sorted(parameters).map { $0.0 + $0.1 }.joined()
        return base + "?" + queryString + (queryString.isEmpty ? "" : ".") + parameterString
    }

    /// `scheme://authority/path`, without parameters (`;…` in the last segment), query or fragment, as Plivo's SDK builds it.
    static func baseURL(_ url: String) -> String {
        guard let parsed = WebhookURL(url) else {
            return url
        }
        var path = Substring(parsed.path)
        let lastSegment = path.lastIndex(of: "/") ?? path.startIndex
        if let semicolon = path[lastSegment...].firstIndex(of: ";") {
            path = path[..<semicolon]
        }
        return "\(parsed.scheme.lowercased())://\(parsed.authority)\(path)"
    }

    private static func sortedQueryString(_ pairs: [(String, String)]) -> String {
        WebhookForm.sorted(pairs).map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    private static func hmac(authToken: String, message: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array(message.utf8), using: SymmetricKey(data: Array(authToken.utf8)))
        return WebhookEncoding.base64(mac)
    }
}
