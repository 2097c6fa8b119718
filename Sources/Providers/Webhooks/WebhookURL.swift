/// The parts of an absolute URL as written, for rebuilding the exact strings providers sign.
///
/// Splits on the ASCII delimiters' bytes (`://`, `#`, `?`, `/`, `@`, `]`, `:`) in the UTF-8 view:
/// URLs are ASCII in practice, and byte scanning avoids `Character` (grapheme) indexing, which
/// dominated webhook verification when this parsed by `Character`.
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
        let bytes = Array(string.utf8)
        guard let separator = Self.schemeSeparator(in: bytes), separator > 0 else {
            return nil
        }
        scheme = Self.text(bytes[..<separator])
        var rest = bytes[(separator + 3)...]
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            fragment = Self.text(rest[(hash + 1)...])
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: UInt8(ascii: "?")) {
            query = Self.text(rest[(question + 1)...])
            rest = rest[..<question]
        }
        let authorityEnd = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        authority = Self.text(rest[..<authorityEnd])
        path = Self.text(rest[authorityEnd...])
        guard !authority.isEmpty else {
            return nil
        }
    }

    /// The URL as written.
    var string: String {
        var text = scheme + "://" + authority + path
        if let query {
            text += "?" + query
        }
        if let fragment {
            text += "#" + fragment
        }
        return text
    }

    /// The explicit port, when the authority has one.
    var port: String? {
        portSeparator.map { Self.text(Array(authority.utf8)[($0 + 1)...]) }
    }

    /// This URL with any explicit port removed.
    var removingPort: WebhookURL {
        var copy = self
        if let separator = portSeparator {
            copy.authority = Self.text(Array(authority.utf8)[..<separator])
        }
        return copy
    }

    /// This URL with the scheme's default port (443 for https, else 80) added when it has no explicit port.
    var addingDefaultPort: WebhookURL {
        guard portSeparator == nil else {
            return self
        }
        var copy = self
        copy.authority += scheme.lowercased() == "https" ? ":443" : ":80"
        return copy
    }

    /// The UTF-8 offset in `authority` of the ':' before the port: after the last '@' and after any
    /// IPv6 literal, followed only by digits.
    private var portSeparator: Int? {
        let bytes = Array(authority.utf8)
        var hostStart = 0
        if let at = bytes.lastIndex(of: UInt8(ascii: "@")) {
            hostStart = at + 1
        }
        if let bracket = bytes[hostStart...].lastIndex(of: UInt8(ascii: "]")) {
            hostStart = bracket
        }
        guard let colon = bytes[hostStart...].lastIndex(of: UInt8(ascii: ":")) else {
            return nil
        }
        let digits = bytes[(colon + 1)...]
        guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return colon
    }

    /// The offset of the first `://`.
    private static func schemeSeparator(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 3 else {
            return nil
        }
        for index in 0...(bytes.count - 3)
        where bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: "/") && bytes[index + 2] == UInt8(ascii: "/") {
            return index
        }
        return nil
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
