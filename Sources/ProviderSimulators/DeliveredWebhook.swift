import Foundation

/// A webhook the simulator delivered, with the response status it got.
public struct DeliveredWebhook: Sendable {
    /// "twilio", "telnyx", "vonage" or "plivo".
    public var provider: String
    /// The full URL requested, including any query.
    public var url: String
    /// "POST" or "GET".
    public var method: String
    /// The headers sent, by lowercased name.
    public var headers: [String: String]
    /// The body sent (empty for GET).
    public var body: [UInt8]
    /// The receiver's response status; nil when the request was refused or failed.
    public var responseStatus: Int?
    /// Why nothing was delivered: a refused non-loopback URL or a transport error.
    public var failure: String?
    /// When the attempt finished.
    public var deliveredAt: Date

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Form parameters from the body (POST) or the query (GET), in order.
    public var formParameters: [(String, String)] {
        if method == "GET" {
            guard let query = url.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
            return FormEncoding.decode(String(query))
        }
        guard headers["content-type"]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            return []
        }
        return FormEncoding.decode(bodyText)
    }

    /// The body parsed as a JSON object, if it is one.
    public func jsonObject() -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}
