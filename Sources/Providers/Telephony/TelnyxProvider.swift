import Foundation
import Logging

/// Telnyx Call Control v2: JSON bodies, `Authorization: Bearer <api key>`.
public struct TelnyxProvider: TelephonyProvider {
    public static let defaultBaseURL = "https://api.telnyx.com/v2"

    public let name = ProviderName.telnyx
    let configuration: TelnyxConfiguration
    let previous: TelnyxConfiguration?
    /// When `previous` stops verifying webhooks.
    let previousValidUntil: Date?
    let http: ProviderHTTPClient
    let baseURL: String
    /// How many number pages a listing reads before it gives up with an error (never a partial list).
    var numberPageLimit = Self.maximumPages

    public init(
        configuration: TelnyxConfiguration, previous: TelnyxConfiguration?, previousValidUntil: Date?, http: ProviderHTTPClient, baseURL: String
    ) {
        self.configuration = configuration
        self.previous = previous
        self.previousValidUntil = previousValidUntil
        self.http = http
        self.baseURL = baseURL
    }

    public var configuredNumbers: [String] { configuration.fromNumbers }

    func send(
        _ method: HTTPMethodName, _ path: String, json: [String: Any]? = nil, accept: String = "application/json",
        logger: Logger
    ) async throws -> ProviderHTTPClient.Response {
        var headers = [("Authorization", "Bearer \(configuration.apiKey)"), ("Accept", accept)]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.send(
            method.nio, baseURL + path, provider: name, headers: headers, body: try json.map(ProviderHTTPClient.json), logger: logger,
            describeError: Self.describeError)
    }

    public func initiateCall(_ call: OutboundCall, logger: Logger) async throws -> PlacedCall {
        var body: [String: Any] = [
            "connection_id": configuration.connectionID, "to": call.to, "from": call.from,
            "webhook_url": call.statusCallbackURL, "webhook_url_method": "POST",
            "timeout_secs": min(max(call.ringTimeoutSeconds, 5), 600),
        ]
        if let state = call.clientState { body["client_state"] = Data(state.utf8).base64EncodedString() }
        if let key = call.idempotencyKey { body["command_id"] = key }
        if let stream = call.mediaStreamURL {
            // Call Control has no answer URL: the stream starts from the dial itself.
            body["stream_url"] = stream
            body["stream_track"] = "both_tracks"
        }
        let response = try await send(.post, "/calls", json: body, logger: logger)
        guard let data = response.jsonObject()?["data"] as? [String: Any], let id = data["call_control_id"] as? String
        else {
            throw ProviderError.invalidResponse("Telnyx's answer has no data.call_control_id")
        }
        return PlacedCall(providerCallID: id, status: .queued, rawStatus: "queued")
    }

    public func callState(providerCallID: String, logger: Logger) async throws -> ProviderCallState {
        let response = try await send(.get, "/calls/\(ProviderHTTPClient.pathEscape(providerCallID))", logger: logger)
        guard let data = response.jsonObject()?["data"] as? [String: Any], let alive = data["is_alive"] as? Bool else {
            throw ProviderError.invalidResponse("Telnyx's call has no is_alive")
        }
        // Call Control reports only whether the call is alive; the webhooks carry the detail.
        return ProviderCallState(
            providerCallID: providerCallID, status: alive ? .inProgress : .completed,
            rawStatus: alive ? "alive" : "ended", durationSeconds: data["call_duration"] as? Int)
    }

    public func hangUp(providerCallID: String, logger: Logger) async throws {
        _ = try await send(.post, "/calls/\(ProviderHTTPClient.pathEscape(providerCallID))/actions/hangup", json: [:], logger: logger)
    }

    /// Every number on the account: `GET /phone_numbers` pages (`page[number]`, `page[size]` up to
    /// 250) until `meta.page_number` reaches `meta.total_pages`.
    public func phoneNumbers(logger: Logger) async throws -> [ProviderPhoneNumber] {
        var numbers: [ProviderPhoneNumber] = []
        var page = 1
        while true {
            let response = try await send(
                .get, "/phone_numbers?page%5Bnumber%5D=\(page)&page%5Bsize%5D=\(Self.phoneNumberPageSize)", logger: logger)
            guard let object = response.jsonObject(), let data = object["data"] as? [[String: Any]] else {
                throw ProviderError.invalidResponse("Telnyx's number list has no data")
            }
            numbers += data.compactMap { entry in
                (entry["phone_number"] as? String).map { ProviderPhoneNumber(number: $0, providerID: entry["id"] as? String) }
            }
            let meta = object["meta"] as? [String: Any]
            let totalPages = meta?["total_pages"] as? Int ?? page
            guard page < totalPages, !data.isEmpty else { return numbers }
            guard page < numberPageLimit else {
                throw ProviderError.invalidResponse(Self.unendingNumberList("Telnyx", pages: numberPageLimit))
            }
            page += 1
        }
    }

    /// Telnyx's largest page of phone numbers.
    static let phoneNumberPageSize = 250
    /// 400 pages of 250 numbers: far above any real account, low enough that a looping answer ends.
    static let maximumPages = 400

    public func checkCredentials(logger: Logger) async throws {
        _ = try await send(.get, "/balance", logger: logger)
    }

    public func verifyWebhook(_ request: WebhookRequest, now: Date) throws(WebhookVerificationError) {
        let secrets = [configuration, previousInGrace(at: now)].compactMap { $0 }.map { WebhookSecret.telnyxPublicKey($0.publicKey) }
        try WebhookVerifier.verify(request, provider: .telnyx, secrets: secrets, now: now)
    }

    /// A Call Control event. Events without `call_control_id` (telnyx-python's `call.recording.saved`
    /// names only the leg) are read too, with no call id and no status: they are stored, never refused.
    public func parseStatusCallback(_ request: WebhookRequest) throws -> CallStatusEvent {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
            let data = root["data"] as? [String: Any], let type = data["event_type"] as? String,
            let id = data["id"] as? String, let payload = data["payload"] as? [String: Any]
        else {
            throw ProviderError.invalidResponse("Telnyx event without data.id, event_type or payload")
        }
        guard let callID = payload["call_control_id"] as? String else {
            return CallStatusEvent(
                eventKey: id, providerCallID: "", status: nil, rawStatus: type, from: nil, to: nil, durationSeconds: nil,
                occurredAt: (data["occurred_at"] as? String).flatMap(ISO8601Timestamp.parse),
                providerLegID: payload["call_leg_id"] as? String)
        }
        let cause = payload["hangup_cause"] as? String
        let state = (payload["client_state"] as? String).flatMap { Data(base64Encoded: $0) }.map {
            String(decoding: $0, as: UTF8.self)
        }
        return CallStatusEvent(
            eventKey: id, providerCallID: callID, status: Self.status(eventType: type, hangupCause: cause),
            rawStatus: Self.rawStatus(eventType: type, payload: payload), from: payload["from"] as? String,
            to: payload["to"] as? String, durationSeconds: nil,
            occurredAt: (data["occurred_at"] as? String).flatMap(ISO8601Timestamp.parse),
            clientState: state, providerLegID: payload["call_leg_id"] as? String)
    }

    public func answerMarkup(streamURL: String) -> WebhookMarkup {
        WebhookMarkup(
            contentType: "text/xml",
            body: #"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="\#(XMLEscape.attribute(streamURL))" bidirectionalMode="rtp"/></Connect></Response>"#)
    }

    /// The status a Call Control event moves the call to. Each published `hangup_cause`
    /// (telnyx-python `types/call_hangup.py`) is mapped on purpose: `call_rejected` is the far end
    /// refusing the call, not a busy line; `not_found` is a number that does not exist, a failed
    /// call; `time_limit` is an answered call cut at its maximum length. A cause Telnyx adds later
    /// ends the call as completed, its name kept in the raw status.
    static func status(eventType: String, hangupCause: String?) -> CallStatus? {
        switch eventType {
        case "call.initiated": return .initiated
        case "call.ringing": return .ringing
        case "call.answered", "call.bridged": return .inProgress
        case "call.hangup":
            switch hangupCause {
            case "normal_clearing", "time_limit": return .completed
            case "user_busy": return .busy
            case "timeout", "no_answer": return .noAnswer
            case "originator_cancel": return .canceled
            case "call_rejected", "not_found", "unspecified": return .failed
            default: return .completed
            }
        default: return nil
        }
    }

    /// The event type, and for a hang-up its cause, who hung up and the SIP code:
    /// `call.hangup:user_busy;source=callee;sip=486`.
    static func rawStatus(eventType: String, payload: [String: Any]) -> String {
        guard let cause = payload["hangup_cause"] as? String else { return eventType }
        var raw = "\(eventType):\(cause)"
        if let source = payload["hangup_source"] as? String { raw += ";source=\(source)" }
        if let sip = payload["sip_hangup_cause"] as? String { raw += ";sip=\(sip)" }
        return raw
    }

    static func describeError(_ response: ProviderHTTPClient.Response) -> String {
        guard let errors = response.jsonObject()?["errors"] as? [[String: Any]], let first = errors.first else {
            return ProviderHTTPClient.excerpt(response)
        }
        let title = first["title"] as? String ?? "error"
        let detail = (first["detail"] as? String).map { ": \($0)" } ?? ""
        let code = (first["code"] as? String).map { " (Telnyx error \($0))" } ?? ""
        return "\(title)\(detail)\(code)"
    }
}

extension TelnyxProvider {
    /// The previous configuration while its rotation grace window is open at `now`.
    func previousInGrace(at now: Date) -> TelnyxConfiguration? {
        guard let previous, let until = previousValidUntil, until > now else { return nil }
        return previous
    }
}
