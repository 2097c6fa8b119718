/// The parts of an absolute URL as written, for rebuilding the exact strings providers sign.
struct WebhookURL {
    /// The scheme as written, without `://`.
    var scheme: String
    /// `[userinfo@]host[:port]` as written.
    var authority: String
    /// The path as written; may be empty.
    var path: String
    /// The query as written, without `?`; nil when the URL has no `?`.
    var query: String?
    /// The fragment as written, without `#`; nil when the URL has no `#`.
    var fragment: String?

    /// Splits `string`, or returns nil when it is not `scheme://authority…`.
    init?(_ string: String) {
        guard let separator = string.range(of: "://"), separator.lowerBound > string.startIndex else {
            return nil
        }
        scheme = String(string[..<separator.lowerBound])
        var rest = string[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        authority = String(rest[..<authorityEnd])
        path = String(rest[authorityEnd...])
        guard !authority.isEmpty else {
            return nil
        }
    }

    /// The URL as written.
    var string: String {
        var text = "\(scheme)://\(authority)\(path)"
        if let query {
            text += "?\(query)"
        }
        if let fragment {
            text += "#\(fragment)"
        }
        return text
    }

    /// The explicit port, when the authority has one.
    var port: String? {
        portSeparator.map { String(authority[authority.index(after: $0)...]) }
    }

    /// This URL with any explicit port removed.
    var removingPort: WebhookURL {
        var copy = self
        if let separator = portSeparator {
            copy.authority = String(authority[..<separator])
        }
        return copy
    }

    /// This URL with the scheme's default port (443 for https, else 80) added when it has no explicit port.
    var addingDefaultPort: WebhookURL {
        guard port == nil else {
            return self
        }
        var copy = self
        copy.authority += scheme.lowercased() == "https" ? ":443" : ":80"
        return copy
    }

    /// The ':' before the port: after the last '@' and after any IPv6 literal, followed only by digits.
    private var portSeparator: String.Index? {
        var hostStart = authority.startIndex
        if let at = authority.lastIndex(of: "@") {
            hostStart = authority.index(after: at)
        }
        if let bracket = authority[hostStart...].lastIndex(of: "]") {
            hostStart = bracket
        }
        guard let colon = authority[hostStart...].lastIndex(of: ":") else {
            return nil
        }
        let digits = authority[authority.index(after: colon)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return colon
    }
}
