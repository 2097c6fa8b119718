import Crypto
import Foundation
import JWTKit
import Logging

/// Vonage Voice API: JSON bodies, an RS256 application JWT per request; account APIs on the REST host.
public struct VonageProvider: TelephonyProvider {
    public static let defaultBaseURL = "https://api.nexmo.com"
    public static let defaultRESTBaseURL = "https://rest.nexmo.com"

    public let name = ProviderName.vonage
    let configuration: VonageConfiguration
    let previous: VonageConfiguration?
    /// When `previous` stops verifying webhooks.
    let previousValidUntil: Date?
    let http: ProviderHTTPClient
    let baseURL: String
    /// How many number pages a listing reads before it gives up with an error (never a partial list).
    var numberPageLimit = Self.maximumNumberPages
    let restBaseURL: String

    public init(
        configuration: VonageConfiguration, previous: VonageConfiguration?, previousValidUntil: Date?,
        http: ProviderHTTPClient, baseURL: String, restBaseURL: String
    ) {
        self.configuration = configuration
        self.previous = previous
        self.previousValidUntil = previousValidUntil
        self.http = http
        self.baseURL = baseURL
        self.restBaseURL = restBaseURL
    }

    public var configuredNumbers: [String] { configuration.fromNumbers }

    /// The claims of a Vonage application JWT.
    struct ApplicationClaims: JWTPayload {
        var application_id: String
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        var jti: IDClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A fresh application JWT (15 minutes), signed with the application's private key.
    func applicationJWT() async throws -> String {
        let keys = JWTKeyCollection()
        do {
            await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: configuration.privateKeyPEM), digestAlgorithm: .sha256)
        } catch {
            throw ProviderError.rejected(status: 0, reason: "the configured private_key cannot sign (\(type(of: error)))")
        }
        let now = Date()
        return try await keys.sign(
            ApplicationClaims(
                application_id: configuration.applicationID, iat: .init(value: now),
                exp: .init(value: now.addingTimeInterval(900)), jti: .init(value: UUID().uuidString.lowercased())))
    }

    func send(_ method: HTTPMethodName, _ path: String, json: [String: Any]? = nil, logger: Logger) async throws
        -> ProviderHTTPClient.Response
    {
        var headers = [("Authorization", "Bearer \(try await applicationJWT())"), ("Accept", "application/json")]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.send(
            method.nio, baseURL + path, provider: name, headers: headers, body: try json.map(ProviderHTTPClient.json), logger: logger,
            describeError: Self.describeError)
    }

    /// Account APIs authenticate with api_key/api_secret, sent as HTTP Basic (never in the URL,
    /// where proxies and access logs would keep it).
    func sendAccount(_ path: String, logger: Logger) async throws -> ProviderHTTPClient.Response {
        try await http.send(
            .GET, "\(restBaseURL)\(path)", provider: name,
            headers: [
                ("Authorization", ProviderHTTPClient.basicAuthorization(user: configuration.apiKey, password: configuration.apiSecret)),
                ("Accept", "application/json"),
            ], logger: logger, describeError: Self.describeError)
    }

    public func initiateCall(_ call: OutboundCall, logger: Logger) async throws -> PlacedCall {
        let body: [String: Any] = [
            "to": [["type": "phone", "number": Self.digits(call.to)]],
            "from": ["type": "phone", "number": Self.digits(call.from)],
            "answer_url": [call.answerURL], "answer_method": "POST",
            "event_url": [call.statusCallbackURL], "event_method": "POST",
            "ringing_timer": min(max(call.ringTimeoutSeconds, 1), 120),
        ]
        let response = try await send(.post, "/v1/calls", json: body, logger: logger)
        guard let object = response.jsonObject(), let uuid = object["uuid"] as? String else {
            throw ProviderError.invalidResponse("Vonage's answer has no uuid")
        }
        let raw = object["status"] as? String ?? "started"
        return PlacedCall(providerCallID: uuid, status: Self.status(raw) ?? .queued, rawStatus: raw)
    }

    public func callState(providerCallID: String, logger: Logger) async throws -> ProviderCallState {
        let response = try await send(.get, "/v1/calls/\(ProviderHTTPClient.pathEscape(providerCallID))", logger: logger)
        guard let object = response.jsonObject(), let raw = object["status"] as? String, let status = Self.status(raw) else {
            throw ProviderError.invalidResponse("Vonage's call has no known status")
        }
        let duration = (object["duration"] as? String).flatMap(Int.init) ?? object["duration"] as? Int
        return ProviderCallState(providerCallID: providerCallID, status: status, rawStatus: raw, durationSeconds: duration)
    }

    public func hangUp(providerCallID: String, logger: Logger) async throws {
        _ = try await send(
            .put, "/v1/calls/\(ProviderHTTPClient.pathEscape(providerCallID))", json: ["action": "hangup"], logger: logger)
    }

    /// Every number on the account: pages of 100 (Vonage's maximum `size`), `index` from 1, until `count`
    /// numbers have come or a page comes back short.
    public func phoneNumbers(logger: Logger) async throws -> [ProviderPhoneNumber] {
        var numbers: [ProviderPhoneNumber] = []
        for index in 1...max(numberPageLimit, 1) {
            let response = try await sendAccount("/account/numbers?size=\(Self.numberPageSize)&index=\(index)", logger: logger)
            guard let body = response.jsonObject() else {
                throw ProviderError.invalidResponse("Vonage's number list is not a JSON object")
            }
            // An account with no numbers answers without the list.
            let page = body["numbers"] as? [[String: Any]] ?? []
            numbers += page.compactMap { entry in
                (entry["msisdn"] as? String).map { ProviderPhoneNumber(number: "+" + $0, providerID: nil) }
            }
            let count = body["count"] as? Int ?? numbers.count
            if numbers.count >= count || page.count < Self.numberPageSize { return numbers }
        }
        throw ProviderError.invalidResponse(Self.unendingNumberList("Vonage", pages: numberPageLimit))
    }

    static let numberPageSize = 100
    /// 100,000 numbers: far above any real account, low enough that a looping answer ends.
    static let maximumNumberPages = 1000

    public func checkCredentials(logger: Logger) async throws {
        _ = try await sendAccount("/account/get-balance", logger: logger)
        // The balance call checks api_key/api_secret; the application key is checked by signing.
        _ = try await applicationJWT()
    }

    public func verifyWebhook(_ request: WebhookRequest, now: Date) throws(WebhookVerificationError) {
        let secrets = [configuration, previousInGrace(at: now)].compactMap { $0?.signatureSecret }.map(WebhookSecret.vonageSignatureSecret)
        guard !secrets.isEmpty else {
            throw .malformed("no signature_secret is configured for Vonage, so its webhooks cannot be verified")
        }
        try WebhookVerifier.verify(request, provider: .vonage, secrets: secrets, now: now)
    }

    /// A Vonage event webhook. Call-state events carry `status`; the others (input, record, transfer, error,
    /// notify — Vonage's webhook reference) do not, and come back with a nil status and their kind as the raw
    /// status, so they are stored without moving the call.
    public func parseStatusCallback(_ request: WebhookRequest) throws -> CallStatusEvent {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            throw ProviderError.invalidResponse("Vonage event that is not a JSON object")
        }
        let timestamp = object["timestamp"] as? String
        let from = (object["from"] as? String).map { "+" + Self.digits($0) }
        let to = (object["to"] as? String).map { "+" + Self.digits($0) }
        let occurredAt = timestamp.flatMap(ISO8601Timestamp.parse)
        if let raw = object["status"] as? String {
            // Answering-machine results (`human`, `machine`) name the leg `call_uuid`, the rest `uuid`.
            guard let uuid = object["uuid"] as? String ?? object["call_uuid"] as? String else {
                throw ProviderError.invalidResponse("Vonage status event without uuid")
            }
            let duration = (object["duration"] as? String).flatMap(Int.init) ?? object["duration"] as? Int
            return CallStatusEvent(
                eventKey: "\(uuid):\(raw):\(timestamp ?? "")", providerCallID: uuid, status: Self.status(raw),
                rawStatus: raw, from: from, to: to, durationSeconds: duration, occurredAt: occurredAt)
        }
        let kind = Self.eventKind(object)
        // Record and error events name only the conversation; a notify event is the caller's own payload.
        let callID = object["uuid"] as? String ?? object["conversation_uuid"] as? String ?? ""
        let discriminator = timestamp ?? Self.bodyDigest(request.body)
        return CallStatusEvent(
            eventKey: "\(kind):\(callID):\(discriminator)", providerCallID: callID, status: nil, rawStatus: kind,
            from: from, to: to, occurredAt: occurredAt)
    }

    /// The kind of a Vonage event that has no `status`, by the fields the webhook reference gives each.
    static func eventKind(_ object: [String: Any]) -> String {
        if object["dtmf"] != nil || object["speech"] != nil { return "input" }
        if object["recording_url"] != nil { return "record" }
        if object["conversation_uuid_from"] != nil || object["conversation_uuid_to"] != nil { return "transfer" }
        if object["reason"] != nil { return "error" }
        return "notify"
    }

    /// Hex SHA-256 of a body: the de-duplication key of an event that carries no timestamp.
    static func bodyDigest(_ body: [UInt8]) -> String {
        WebhookEncoding.hex(SHA256.hash(data: body))
    }

    public func answerMarkup(streamURL: String) -> WebhookMarkup {
        let ncco: [[String: Any]] = [
            [
                "action": "connect",
                "endpoint": [["type": "websocket", "uri": streamURL, "content-type": "audio/l16;rate=16000"]],
            ]
        ]
        let body = (try? JSONSerialization.data(withJSONObject: ncco, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        return WebhookMarkup(contentType: "application/json", body: body)
    }

    /// An NCCO with no actions: Vonage ends the call.
    public func hangupMarkup() -> WebhookMarkup {
        WebhookMarkup(contentType: "application/json", body: "[]")
    }

    /// Vonage's answer request names the call `uuid`: in the query of a GET, in the JSON body of a POST.
    public func answerCallIdentity(_ request: WebhookRequest) -> (callID: String?, legID: String?) {
        if request.method.uppercased() == "GET" {
            let uuid = request.formParameters.first { $0.0 == "uuid" }?.1
            return (uuid.flatMap { $0.isEmpty ? nil : $0 }, nil)
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
        return ((object?["uuid"] as? String).flatMap { $0.isEmpty ? nil : $0 }, nil)
    }

    static func digits(_ number: String) -> String {
        String(number.filter(\.isNumber))
    }

    static func status(_ raw: String) -> CallStatus? {
        switch raw {
        case "started": .initiated
        case "ringing": .ringing
        case "answered": .inProgress
        case "completed": .completed
        case "busy": .busy
        case "rejected": .failed
        case "timeout", "unanswered": .noAnswer
        case "failed": .failed
        case "cancelled": .canceled
        default: nil
        }
    }

    static func describeError(_ response: ProviderHTTPClient.Response) -> String {
        guard let object = response.jsonObject() else { return ProviderHTTPClient.excerpt(response) }
        let title = object["title"] as? String ?? object["error_title"] as? String ?? "HTTP \(response.status)"
        let detail = (object["detail"] as? String).map { ": \($0)" } ?? ""
        return title + detail
    }
}

extension VonageProvider {
    /// The previous configuration while its rotation grace window is open at `now`.
    func previousInGrace(at now: Date) -> VonageConfiguration? {
        guard let previous, let until = previousValidUntil, until > now else { return nil }
        return previous
    }
}
