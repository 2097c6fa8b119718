/// A webhook as it arrived: the public URL the provider called (`scheme://host[:port]/path?query`), method, headers, raw body.
public struct WebhookRequest: Sendable {
    /// The HTTP method, such as `POST` or `GET`.
    public var method: String
    /// The public URL the provider called, exactly as configured with the provider, including any query.
    public var url: String
    /// The headers, keyed by lowercased name; repeated headers are joined with ", ".
    public var headers: [String: String]
    /// The raw body bytes, unchanged.
    public var body: [UInt8]

    /// Creates a request, lowercasing header names and trimming spaces around header values.
    public init(method: String, url: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method
        self.url = url
        self.body = body
        var combined: [String: String] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            let trimmed = value.trimmingOptionalWhitespace
            // RFC 9110 §5.3: repeated fields mean the same as one field with the values joined by commas.
            combined[key] = combined[key].map { "\($0), \(trimmed)" } ?? trimmed
        }
        self.headers = combined
    }

    /// The `application/x-www-form-urlencoded` body (or the query, for GET) as ordered (name, value) pairs, percent-decoded ('+' = space).
    public var formParameters: [(String, String)] {
        if isGet {
            return WebhookForm.parse(Array((WebhookURL(url)?.query ?? "").utf8))
        }
        return WebhookForm.parse(body)
    }

    /// Whether the method is GET, in any case.
    var isGet: Bool {
        method.uppercased() == "GET"
    }
}

extension String {
    /// This string without leading and trailing spaces and tabs (HTTP's optional whitespace).
    fileprivate var trimmingOptionalWhitespace: String {
        let isOptionalWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isOptionalWhitespace($0) }),
            let last = lastIndex(where: { !isOptionalWhitespace($0) })
        else {
            return ""
        }
        return String(self[first...last])
    }
}
