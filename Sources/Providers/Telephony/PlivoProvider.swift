import Foundation
import Logging

/// Plivo Voice API: JSON bodies, HTTP Basic (auth_id:auth_token).
public struct PlivoProvider: TelephonyProvider {
    public static let defaultBaseURL = "https://api.plivo.com/v1"

    public let name = ProviderName.plivo
    let configuration: PlivoConfiguration
    let previous: PlivoConfiguration?
    /// When `previous` stops verifying webhooks.
    let previousValidUntil: Date?
    let http: ProviderHTTPClient
    let baseURL: String

    public init(
        configuration: PlivoConfiguration, previous: PlivoConfiguration?, previousValidUntil: Date?, http: ProviderHTTPClient, baseURL: String
    ) {
        self.configuration = configuration
        self.previous = previous
        self.previousValidUntil = previousValidUntil
        self.http = http
        self.baseURL = baseURL
    }

    public var configuredNumbers: [String] { configuration.fromNumbers }

    var accountURL: String { "\(baseURL)/Account/\(ProviderHTTPClient.pathEscape(configuration.authID))" }

    func send(_ method: HTTPMethodName, _ url: String, json: [String: Any]? = nil, logger: Logger) async throws
        -> ProviderHTTPClient.Response
    {
        var headers = [
            ("Authorization", ProviderHTTPClient.basicAuthorization(user: configuration.authID, password: configuration.authToken)),
            ("Accept", "application/json"),
        ]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.send(
            method.nio, url, provider: name, headers: headers, body: try json.map(ProviderHTTPClient.json), logger: logger,
            describeError: Self.describeError)
    }

    public func initiateCall(_ call: OutboundCall, logger: Logger) async throws -> PlacedCall {
        let body: [String: Any] = [
            "from": Self.digits(call.from), "to": Self.digits(call.to),
            "answer_url": call.answerURL, "answer_method": "POST",
            "hangup_url": call.statusCallbackURL, "hangup_method": "POST",
            "ring_url": call.statusCallbackURL, "ring_method": "POST",
            "ring_timeout": min(max(call.ringTimeoutSeconds, 1), 120),
        ]
        let response = try await send(.post, "\(accountURL)/Call/", json: body, logger: logger)
        guard let object = response.jsonObject(), let id = object["request_uuid"] as? String else {
            throw ProviderError.invalidResponse("Plivo's answer has no request_uuid")
        }
        return PlacedCall(providerCallID: id, status: .queued, rawStatus: object["message"] as? String ?? "call fired")
    }

    public func callState(providerCallID: String, logger: Logger) async throws -> ProviderCallState {
        let response = try await send(.get, "\(accountURL)/Call/\(ProviderHTTPClient.pathEscape(providerCallID))/", logger: logger)
        guard let object = response.jsonObject() else { throw ProviderError.invalidResponse("Plivo's call is not JSON") }
        let raw = object["call_status"] as? String ?? object["call_state"] as? String ?? "unknown"
        guard let status = Self.status(raw) else { throw ProviderError.invalidResponse("Plivo call status '\(raw)' is unknown") }
        let duration = object["call_duration"] as? Int ?? (object["call_duration"] as? String).flatMap(Int.init)
        return ProviderCallState(providerCallID: providerCallID, status: status, rawStatus: raw, durationSeconds: duration)
    }

    /// Hangs up a live call; a call still queued has no live leg (404), so its request is cancelled.
    public func hangUp(providerCallID: String, logger: Logger) async throws {
        let id = ProviderHTTPClient.pathEscape(providerCallID)
        do {
            _ = try await send(.delete, "\(accountURL)/Call/\(id)/", logger: logger)
        } catch ProviderError.rejected(status: 404, _) {
            _ = try await send(.delete, "\(accountURL)/Request/\(id)/", logger: logger)
        }
    }

    public func phoneNumbers(logger: Logger) async throws -> [ProviderPhoneNumber] {
        let response = try await send(.get, "\(accountURL)/Number/?limit=20", logger: logger)
        guard let objects = response.jsonObject()?["objects"] as? [[String: Any]] else {
            throw ProviderError.invalidResponse("Plivo's number list has no objects")
        }
        return objects.compactMap { entry in
            (entry["number"] as? String).map { ProviderPhoneNumber(number: "+" + Self.digits($0), providerID: nil) }
        }
    }

    public func checkCredentials(logger: Logger) async throws {
        _ = try await send(.get, "\(accountURL)/", logger: logger)
    }

    public func verifyWebhook(_ request: WebhookRequest, now: Date) throws(WebhookVerificationError) {
        let secrets = [configuration, previousInGrace(at: now)].compactMap { $0 }.map { WebhookSecret.plivoAuthToken($0.authToken) }
        try WebhookVerifier.verify(request, provider: .plivo, secrets: secrets, now: now)
    }

    public func parseStatusCallback(_ request: WebhookRequest) throws -> CallStatusEvent {
        let form = Dictionary(request.formParameters, uniquingKeysWith: { first, _ in first })
        guard let id = form["RequestUUID"] ?? form["CallUUID"], let raw = form["CallStatus"] else {
            throw ProviderError.invalidResponse("Plivo callback without RequestUUID/CallUUID or CallStatus")
        }
        return CallStatusEvent(
            eventKey: "\(form["CallUUID"] ?? id):\(raw):\(form["Event"] ?? "")", providerCallID: id, status: Self.status(raw),
            rawStatus: raw, from: form["From"].map { "+" + Self.digits($0) }, to: form["To"].map { "+" + Self.digits($0) },
            durationSeconds: form["Duration"].flatMap(Int.init))
    }

    public func answerMarkup(streamURL: String) -> WebhookMarkup {
        WebhookMarkup(
            contentType: "application/xml",
            body: #"<?xml version="1.0" encoding="UTF-8"?><Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">\#(XMLEscape.attribute(streamURL))</Stream></Response>"#)
    }

    static func digits(_ number: String) -> String {
        String(number.filter(\.isNumber))
    }

    static func status(_ raw: String) -> CallStatus? {
        switch raw {
        case "queued": .queued
        case "ringing", "early media": .ringing
        case "in-progress", "answered": .inProgress
        case "completed": .completed
        case "busy": .busy
        case "no-answer", "timeout": .noAnswer
        case "failed": .failed
        case "cancel", "canceled", "cancelled": .canceled
        default: nil
        }
    }

    static func describeError(_ response: ProviderHTTPClient.Response) -> String {
        guard let object = response.jsonObject() else { return ProviderHTTPClient.excerpt(response) }
        if let error = object["error"] as? String { return error }
        if let error = object["error"] as? [String: Any] { return error.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "; ") }
        return ProviderHTTPClient.excerpt(response)
    }
}

extension PlivoProvider {
    /// The previous configuration while its rotation grace window is open at `now`.
    func previousInGrace(at now: Date) -> PlivoConfiguration? {
        guard let previous, let until = previousValidUntil, until > now else { return nil }
        return previous
    }
}
