import Foundation

/// A request as the provider handlers see it: fully read and decoded into plain values.
struct IncomingRequest: Sendable {
    var method: String
    /// The raw path, e.g. `/twilio/2010-04-01/Accounts/AC…/Calls.json`.
    var path: String
    var query: String?
    /// Headers by lowercased name.
    var headers: [String: String]
    var body: [UInt8]

    /// Percent-decoded path segments; a trailing slash gives a final empty segment.
    var segments: [String] {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        if parts.first == "" { parts.removeFirst() }
        return parts
    }

    /// The media type of the body, lowercased, without parameters.
    var mediaType: String? {
        headers["content-type"].map {
            String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// The body as form parameters (empty unless the body is form-encoded).
    var formParameters: [(String, String)] {
        guard mediaType == "application/x-www-form-urlencoded" else { return [] }
        return FormEncoding.decode(String(decoding: body, as: UTF8.self))
    }

    /// The query as name/value pairs.
    var queryParameters: [(String, String)] {
        query.map(FormEncoding.decode) ?? []
    }

    /// The body parsed as JSON, when the media type says JSON and it parses.
    var json: JSONValue? {
        guard let mediaType, mediaType == "application/json" || mediaType.hasSuffix("+json") else { return nil }
        return JSONValue.parse(body)
    }

    /// HTTP Basic credentials, if the request carries them.
    var basicCredentials: (user: String, password: String)? {
        guard let header = headers["authorization"] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// The token of an `Authorization: Bearer` header.
    var bearerToken: String? {
        guard let header = headers["authorization"] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}

/// A response from a provider handler.
struct OutgoingResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    /// A JSON response.
    static func json(_ status: Int, _ value: JSONValue, contentType: String = "application/json") -> OutgoingResponse {
        OutgoingResponse(status: status, headers: [("Content-Type", contentType)], body: value.serialized())
    }

    /// A response without a body.
    static func empty(_ status: Int) -> OutgoingResponse {
        OutgoingResponse(status: status, headers: [], body: [])
    }

    /// A plain-text response.
    static func text(_ status: Int, _ text: String) -> OutgoingResponse {
        OutgoingResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }
}

/// A refusal is a response: validation returns it as the failure of a `Result`.
extension OutgoingResponse: Error {}

/// Whether a webhook URL points at this machine; the simulators deliver nowhere else.
func isLoopbackURL(_ text: String) -> Bool {
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
        let host = url.host?.lowercased()
    else { return false }
    let bareHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    if bareHost == "localhost" || bareHost == "::1" { return true }
    let octets = bareHost.split(separator: ".", omittingEmptySubsequences: false)
    return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
}

/// Whether a string is an absolute http(s) URL with a host, as the providers require of callback URLs.
func isAbsoluteHTTPURL(_ text: String) -> Bool {
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
        let host = url.host, !host.isEmpty
    else { return false }
    return true
}

/// Whether a string is an E.164 number: `+`, then 2 to 15 digits, the first not zero.
func isE164(_ text: String) -> Bool {
    guard text.hasPrefix("+") else { return false }
    let digits = text.dropFirst()
    return (2...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber } && digits.first != "0"
}
