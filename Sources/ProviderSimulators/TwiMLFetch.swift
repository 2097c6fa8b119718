import Foundation

/// A request the simulated Twilio made for TwiML (a call's `Url` or an application's voice URL), with the answer it got.
///
/// Kept apart from `DeliveredWebhook`: these are instructions fetched, not status reports.
public struct TwiMLFetch: Sendable {
    /// The call the TwiML is for.
    public var callSID: String
    /// The full URL requested, including any query.
    public var url: String
    /// "POST" or "GET".
    public var method: String
    /// The voice request parameters sent, in order (in the body for POST, in the query for GET).
    public var parameters: [(String, String)]
    /// The headers sent, by lowercased name.
    public var headers: [String: String]
    /// The receiver's response status; nil when the request was refused or failed.
    public var responseStatus: Int?
    /// The response body as text (empty when there was none).
    public var responseBody: String
    /// Why nothing was fetched: a refused non-loopback URL or a transport error.
    public var failure: String?
    /// When the attempt finished.
    public var fetchedAt: Date
}
