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

    public func phoneNumbers(logger: Logger) async throws -> [ProviderPhoneNumber] {
        let response = try await send(.get, "\(accountURL)/IncomingPhoneNumbers.json?PageSize=1000", logger: logger)
        guard let numbers = response.jsonObject()?["incoming_phone_numbers"] as? [[String: Any]] else {
            throw ProviderError.invalidResponse("Twilio's number list has no incoming_phone_numbers")
        }
        return numbers.compactMap { entry in
            (entry["phone_number"] as? String).map { ProviderPhoneNumber(number: $0, providerID: entry["sid"] as? String) }
        }
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
            from: form["From"], to: form["To"], durationSeconds: (form["CallDuration"] ?? form["Duration"]).flatMap(Int.init),
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
