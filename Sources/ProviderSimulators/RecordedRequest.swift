import Foundation

/// One request as the simulator received it (for tests asserting the exact request).
public struct RecordedRequest: Sendable {
    /// "twilio", "telnyx", "vonage" (both Vonage hosts), "plivo", or "unknown".
    public var provider: String
    /// The HTTP method, e.g. "POST".
    public var method: String
    /// The path as sent, including the provider prefix.
    public var path: String
    /// The raw query string, without `?`.
    public var query: String?
    /// Headers by lowercased name; repeated headers are joined with ", ".
    public var headers: [String: String]
    /// The raw body.
    public var body: [UInt8]
    /// The status the simulator answered with.
    public var status: Int
    /// When the request arrived.
    public var receivedAt: Date

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded as a form, in order (empty unless the body is form-encoded).
    public var formParameters: [(String, String)] {
        guard headers["content-type"]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            return []
        }
        return FormEncoding.decode(bodyText)
    }

    /// The query decoded as name/value pairs, in order.
    public var queryParameters: [(String, String)] {
        query.map(FormEncoding.decode) ?? []
    }

    /// The body parsed as a JSON object, if it is one.
    public func jsonObject() -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}
