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
    /// How many number pages a listing reads before it gives up with an error (never a partial list).
    var numberPageLimit = Self.maximumPages
    /// How many live calls a lookup by request reads at most.
    var liveLookupLimit = Self.liveLookupLimit

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

    /// A call's state; `providerCallID` is the `request_uuid` that `POST /Call/` answered.
    public func callState(providerCallID: String, logger: Logger) async throws -> ProviderCallState {
        try await callState(providerCallID: providerCallID, legID: nil, logger: logger)
    }

    /// Plivo keeps three views of a call (plivo-python `resources/calls.py`, `live_calls.py`,
    /// `queued_calls.py`): `GET /Call/{request_uuid}/?status=queued` while queued,
    /// `GET /Call/{call_uuid}/?status=live` while ringing or answered, and `GET /Call/{call_uuid}/`,
    /// the record of the ended call (`call_state`).
    public func callState(providerCallID: String, legID: String?, logger: Logger) async throws -> ProviderCallState {
        let callUUID: String
        if let legID {
            callUUID = legID
        } else {
            if let queued = try await optional(.get, "\(accountURL)/Call/\(ProviderHTTPClient.pathEscape(providerCallID))/?status=queued", logger: logger) {
                return try Self.state(queued, providerCallID: providerCallID, field: "call_status")
            }
            guard let found = try await liveCallUUID(requestUUID: providerCallID, logger: logger) else {
                // Neither queued nor live: the call has ended, and its record is found only by the CallUUID, which
                // no callback has given us (Plivo's call list cannot be searched by request).
                throw ProviderError.rejected(
                    status: 404,
                    reason: "Plivo's call is neither queued nor live, and its ended-call record needs the CallUUID, which no callback has reported for this request")
            }
            callUUID = found
        }
        let escaped = ProviderHTTPClient.pathEscape(callUUID)
        if let live = try await optional(.get, "\(accountURL)/Call/\(escaped)/?status=live", logger: logger) {
            return try Self.state(live, providerCallID: providerCallID, field: "call_status")
        }
        let record = try await send(.get, "\(accountURL)/Call/\(escaped)/", logger: logger)
        return try Self.state(record, providerCallID: providerCallID, field: "call_state")
    }

    /// Sends a request whose 404 means "not in that state", answering nil then.
    func optional(_ method: HTTPMethodName, _ url: String, logger: Logger) async throws -> ProviderHTTPClient.Response? {
        do {
            return try await send(method, url, logger: logger)
        } catch ProviderError.rejected(status: 404, _) {
            return nil
        }
    }

    /// The live call of a request, when a callback with its CallUUID has not reached us yet: Plivo
    /// lists live call ids (`GET /Call/?status=live`) and each live call names its request. Nil when
    /// no live call is the request's; an error when there are more live calls than one lookup reads.
    func liveCallUUID(requestUUID: String, logger: Logger) async throws -> String? {
        let list = try await send(.get, "\(accountURL)/Call/?status=live", logger: logger)
        let ids = (list.jsonObject()?["calls"] as? [String]) ?? []
        for id in ids.prefix(liveLookupLimit) {
            guard let live = try await optional(.get, "\(accountURL)/Call/\(ProviderHTTPClient.pathEscape(id))/?status=live", logger: logger),
                let object = live.jsonObject()
            else { continue }
            if object["request_uuid"] as? String == requestUUID { return object["call_uuid"] as? String ?? id }
        }
        guard ids.count <= liveLookupLimit else {
            throw ProviderError.unavailable(
                "Plivo has \(ids.count) live calls, more than the \(liveLookupLimit) one lookup reads; this call's CallUUID comes only from its callbacks")
        }
        return nil
    }

    /// How many live calls a lookup by request reads at most (one GET each).
    static let liveLookupLimit = 50

    static func state(_ response: ProviderHTTPClient.Response, providerCallID: String, field: String) throws -> ProviderCallState {
        guard let object = response.jsonObject() else { throw ProviderError.invalidResponse("Plivo's call is not JSON") }
        let raw = object[field] as? String ?? object["call_status"] as? String ?? "unknown"
        guard let status = field == "call_state" ? Self.recordStatus(raw) : Self.status(raw) else {
            throw ProviderError.invalidResponse("Plivo call status '\(raw)' is unknown")
        }
        let duration = object["call_duration"] as? Int ?? (object["call_duration"] as? String).flatMap(Int.init)
        return ProviderCallState(providerCallID: providerCallID, status: status, rawStatus: raw, durationSeconds: duration)
    }

    /// An ended call record's `call_state` (e.g. `ANSWER`): how the call ended.
    static func recordStatus(_ raw: String) -> CallStatus? {
        switch raw.uppercased().replacingOccurrences(of: " ", with: "_") {
        case "ANSWER", "ANSWERED", "COMPLETED": .completed
        case "BUSY": .busy
        case "NO_ANSWER", "NOANSWER", "TIMEOUT": .noAnswer
        case "CANCEL", "CANCELED", "CANCELLED": .canceled
        case "FAILED", "ERROR", "REJECTED": .failed
        default: nil
        }
    }

    public func hangUp(providerCallID: String, logger: Logger) async throws {
        try await hangUp(providerCallID: providerCallID, legID: nil, logger: logger)
    }

    /// A live call is hung up by its CallUUID (`DELETE /Call/{call_uuid}/`); a call still queued
    /// has no live leg, so its request is cancelled (`DELETE /Request/{request_uuid}/`). When the
    /// request is no longer queued and no callback has named its CallUUID yet, the live call is
    /// found through the live-call list.
    public func hangUp(providerCallID: String, legID: String?, logger: Logger) async throws {
        if let legID {
            _ = try await send(.delete, "\(accountURL)/Call/\(ProviderHTTPClient.pathEscape(legID))/", logger: logger)
            return
        }
        if try await optional(.delete, "\(accountURL)/Request/\(ProviderHTTPClient.pathEscape(providerCallID))/", logger: logger) != nil {
            return
        }
        guard let live = try await liveCallUUID(requestUUID: providerCallID, logger: logger) else {
            throw ProviderError.rejected(status: 404, reason: "the call is neither queued nor live at Plivo")
        }
        _ = try await send(.delete, "\(accountURL)/Call/\(ProviderHTTPClient.pathEscape(live))/", logger: logger)
    }

    /// Every number on the account: `GET /Number/` pages of `limit` 20 (Plivo's largest) by
    /// `offset` while `meta.next` names another page.
    public func phoneNumbers(logger: Logger) async throws -> [ProviderPhoneNumber] {
        var numbers: [ProviderPhoneNumber] = []
        var offset = 0
        for _ in 0..<numberPageLimit {
            let response = try await send(.get, "\(accountURL)/Number/?limit=20&offset=\(offset)", logger: logger)
            guard let object = response.jsonObject(), let objects = object["objects"] as? [[String: Any]] else {
                throw ProviderError.invalidResponse("Plivo's number list has no objects")
            }
            numbers += objects.compactMap { entry in
                (entry["number"] as? String).map { ProviderPhoneNumber(number: "+" + Self.digits($0), providerID: nil) }
            }
            let next = (object["meta"] as? [String: Any])?["next"] as? String
            guard next != nil, !objects.isEmpty else { return numbers }
            offset += objects.count
        }
        throw ProviderError.invalidResponse(Self.unendingNumberList("Plivo", pages: numberPageLimit))
    }

    /// 5,000 pages of 20 numbers (100,000, as for the other providers): far above any real account, low enough
    /// that a looping answer ends.
    static let maximumPages = 5000

    public func checkCredentials(logger: Logger) async throws {
        _ = try await send(.get, "\(accountURL)/", logger: logger)
    }

    public func verifyWebhook(_ request: WebhookRequest, now: Date) throws(WebhookVerificationError) {
        let secrets = [configuration, previousInGrace(at: now)].compactMap { $0 }.map { WebhookSecret.plivoAuthToken($0.authToken) }
        try WebhookVerifier.verify(request, provider: .plivo, secrets: secrets, now: now)
    }

    /// Callbacks name the request (`RequestUUID`, `ALegRequestUUID`: what `POST /Call/` answered,
    /// the call's id here) and the live call (`CallUUID`, recorded as the leg id for hang-ups).
    public func parseStatusCallback(_ request: WebhookRequest) throws -> CallStatusEvent {
        let form = Dictionary(request.formParameters, uniquingKeysWith: { first, _ in first })
        guard let id = form["ALegRequestUUID"] ?? form["RequestUUID"] ?? form["CallUUID"], let raw = form["CallStatus"]
        else {
            throw ProviderError.invalidResponse("Plivo callback without RequestUUID/CallUUID or CallStatus")
        }
        return CallStatusEvent(
            eventKey: "\(form["CallUUID"] ?? id):\(raw):\(form["Event"] ?? "")", providerCallID: id, status: Self.status(raw),
            rawStatus: raw, from: form["From"].map { "+" + Self.digits($0) }, to: form["To"].map { "+" + Self.digits($0) },
            durationSeconds: form["Duration"].flatMap(Int.init), providerLegID: form["CallUUID"])
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
