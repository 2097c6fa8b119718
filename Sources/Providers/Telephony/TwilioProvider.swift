import Foundation
import Logging

/// Twilio's Programmable Voice REST API (2010-04-01): form bodies, HTTP Basic, JSON answers.
public struct TwilioProvider: TelephonyProvider {
    public static let defaultBaseURL = "https://api.twilio.com/2010-04-01"

    public let name = ProviderName.twilio
    let configuration: TwilioConfiguration
    let previous: TwilioConfiguration?
    /// When `previous` stops verifying webhooks.
    let previousValidUntil: Date?
    let http: ProviderHTTPClient
    let baseURL: String
    /// How many number pages a listing reads before it gives up with an error (never a partial list).
    var numberPageLimit = Self.maximumNumberPages

    public init(
        configuration: TwilioConfiguration, previous: TwilioConfiguration?, previousValidUntil: Date?, http: ProviderHTTPClient, baseURL: String
    ) {
        self.configuration = configuration
        self.previous = previous
        self.previousValidUntil = previousValidUntil
        self.http = http
        self.baseURL = baseURL
    }

    public var configuredNumbers: [String] { configuration.fromNumbers }

    var accountURL: String { "\(baseURL)/Accounts/\(ProviderHTTPClient.pathEscape(configuration.accountSID))" }

    var authorization: (String, String) {
        ("Authorization", ProviderHTTPClient.basicAuthorization(user: configuration.accountSID, password: configuration.authToken))
    }

    func send(_ method: HTTPMethodName, _ url: String, form: [(String, String)]? = nil, logger: Logger) async throws
        -> ProviderHTTPClient.Response
    {
        var headers = [authorization, ("Accept", "application/json")]
        if form != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
        return try await http.send(
            method.nio, url, provider: name, headers: headers, body: form.map(ProviderHTTPClient.formEncode), logger: logger,
            describeError: Self.describeError)
    }

    public func initiateCall(_ call: OutboundCall, logger: Logger) async throws -> PlacedCall {
        var form: [(String, String)] = [
            ("To", call.to), ("From", call.from), ("Url", call.answerURL), ("Method", "POST"),
            ("StatusCallback", call.statusCallbackURL), ("StatusCallbackMethod", "POST"),
            ("Timeout", String(min(max(call.ringTimeoutSeconds, 1), 600))),
        ]
        for event in ["initiated", "ringing", "answered", "completed"] { form.append(("StatusCallbackEvent", event)) }
        let response = try await send(.post, "\(accountURL)/Calls.json", form: form, logger: logger)
        guard let body = response.jsonObject(), let sid = body["sid"] as? String, let raw = body["status"] as? String else {
            throw ProviderError.invalidResponse("Twilio's call resource has no sid or status")
        }
        return PlacedCall(providerCallID: sid, status: Self.status(raw) ?? .queued, rawStatus: raw)
    }

    public func callState(providerCallID: String, logger: Logger) async throws -> ProviderCallState {
        let response = try await send(
            .get, "\(accountURL)/Calls/\(ProviderHTTPClient.pathEscape(providerCallID)).json", logger: logger)
        guard let body = response.jsonObject(), let raw = body["status"] as? String, let status = Self.status(raw) else {
            throw ProviderError.invalidResponse("Twilio's call resource has no known status")
        }
        let duration = (body["duration"] as? String).flatMap(Int.init)
        return ProviderCallState(providerCallID: providerCallID, status: status, rawStatus: raw, durationSeconds: duration)
    }

    public func hangUp(providerCallID: String, logger: Logger) async throws {
        _ = try await send(
            .post, "\(accountURL)/Calls/\(ProviderHTTPClient.pathEscape(providerCallID)).json",
            form: [("Status", "completed")], logger: logger)
    }

    /// Every number on the account: pages of 1,000 (Twilio's maximum `PageSize`), following `next_page_uri` until
    /// it is null. The next page is always fetched from the configured base URL, never from a host the answer names.
    public func phoneNumbers(logger: Logger) async throws -> [ProviderPhoneNumber] {
        var numbers: [ProviderPhoneNumber] = []
        var url = "\(accountURL)/IncomingPhoneNumbers.json?PageSize=1000"
        for _ in 0..<numberPageLimit {
            let response = try await send(.get, url, logger: logger)
            guard let body = response.jsonObject(), let page = body["incoming_phone_numbers"] as? [[String: Any]] else {
                throw ProviderError.invalidResponse("Twilio's number list has no incoming_phone_numbers")
            }
            numbers += page.compactMap { entry in
                (entry["phone_number"] as? String).map { ProviderPhoneNumber(number: $0, providerID: entry["sid"] as? String) }
            }
            guard let next = body["next_page_uri"] as? String else { return numbers }
            guard let nextURL = nextPageURL(next) else {
                throw ProviderError.invalidResponse("Twilio's next_page_uri is not a path under the API version")
            }
            url = nextURL
        }
        throw ProviderError.invalidResponse(Self.unendingNumberList("Twilio", pages: numberPageLimit))
    }

    /// 1,000 pages of 1,000 numbers: far above any real account, low enough that a looping answer ends.
    static let maximumNumberPages = 1000

    /// `next_page_uri` is a path that starts with the API version (`/2010-04-01/Accounts/…`); the base URL ends with
    /// that version, so the path replaces it.
    func nextPageURL(_ uri: String) -> String? {
        let version = "/2010-04-01/"
        guard uri.hasPrefix(version), baseURL.hasSuffix("/2010-04-01") else { return nil }
        return baseURL + "/" + uri.dropFirst(version.count)
    }

    public func checkCredentials(logger: Logger) async throws {
        _ = try await send(.get, "\(accountURL).json", logger: logger)
    }

    public func verifyWebhook(_ request: WebhookRequest, now: Date) throws(WebhookVerificationError) {
        let secrets = [configuration, previousInGrace(at: now)].compactMap { $0 }.map { WebhookSecret.twilioAuthToken($0.authToken) }
        try WebhookVerifier.verify(request, provider: .twilio, secrets: secrets, now: now)
    }

    public func parseStatusCallback(_ request: WebhookRequest) throws -> CallStatusEvent {
        let form = Dictionary(request.formParameters, uniquingKeysWith: { first, _ in first })
        guard let sid = form["CallSid"], let raw = form["CallStatus"] else {
            throw ProviderError.invalidResponse("status callback without CallSid or CallStatus")
        }
        let sequence = form["SequenceNumber"] ?? form["Timestamp"] ?? ""
        return CallStatusEvent(
            eventKey: "\(sid):\(raw):\(sequence)", providerCallID: sid, status: Self.status(raw), rawStatus: raw,
            from: form["From"], to: form["To"], // `CallDuration` is seconds; `Duration` is minutes, rounded up, and is never read as seconds.
            durationSeconds: form["CallDuration"].flatMap(Int.init),
            occurredAt: form["Timestamp"].flatMap(Self.parseRFC2822))
    }

    public func answerMarkup(streamURL: String) -> WebhookMarkup {
        WebhookMarkup(
            contentType: "text/xml",
            body: #"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="\#(XMLEscape.attribute(streamURL))"/></Connect></Response>"#)
    }

    static func status(_ raw: String) -> CallStatus? {
        CallStatus(rawValue: raw)
    }

    static func describeError(_ response: ProviderHTTPClient.Response) -> String {
        guard let body = response.jsonObject() else { return ProviderHTTPClient.excerpt(response) }
        let code = (body["code"] as? Int).map { " (Twilio error \($0))" } ?? ""
        return "\(body["message"] as? String ?? "HTTP \(response.status)")\(code)"
    }

    static func parseRFC2822(_ value: String) -> Date? {
        RFC2822Date.parse(value)
    }
}

/// Escaping for values placed in XML markup.
enum XMLEscape {
    static func attribute(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "'", with: "&apos;")
    }
}

/// HTTP methods the provider clients use.
enum HTTPMethodName {
    case get, post, put, delete
}

extension TwilioProvider {
    /// The previous configuration while its rotation grace window is open at `now`.
    func previousInGrace(at now: Date) -> TwilioConfiguration? {
        guard let previous, let until = previousValidUntil, until > now else { return nil }
        return previous
    }
}
