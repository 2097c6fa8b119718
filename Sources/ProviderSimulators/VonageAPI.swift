import Crypto
import Foundation
import JWTKit

/// The Vonage Voice API (`api.nexmo.com/v1/calls`) and account API (`rest.nexmo.com/account`) subsets, and Vonage's signed event webhooks.
struct VonageAPI: WebhookSource {
    let accounts: [SimulatorAccounts.Vonage]
    let store: SimulatorStore

    private static let actions: Set<String> = ["hangup", "mute", "unmute", "earmuff", "unearmuff", "transfer"]

    /// The claims of an application JWT that the Voice API checks.
    private struct ApplicationClaims: JWTPayload {
        var applicationID: String?
        var issuedAt: IssuedAtClaim?
        var jwtID: String?
        var expiration: ExpirationClaim?
        var notBefore: NotBeforeClaim?

        enum CodingKeys: String, CodingKey {
            case applicationID = "application_id"
            case issuedAt = "iat"
            case jwtID = "jti"
            case expiration = "exp"
            case notBefore = "nbf"
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try expiration?.verifyNotExpired()
            try notBefore?.verifyNotBefore()
        }
    }

    /// The claims of the JWT that signs event webhooks.
    private struct WebhookClaims: JWTPayload {
        var issuedAt: Int
        var jwtID: String
        var issuer: String
        var payloadHash: String
        var apiKey: String
        var applicationID: String

        enum CodingKeys: String, CodingKey {
            case issuedAt = "iat"
            case jwtID = "jti"
            case issuer = "iss"
            case payloadHash = "payload_hash"
            case apiKey = "api_key"
            case applicationID = "application_id"
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    // MARK: - Voice API

    /// Answers a request whose path followed `/vonage`.
    func handleVoice(_ request: IncomingRequest, route: [String]) async -> OutgoingResponse {
        guard route.count >= 2, route[0] == "v1", route[1] == "calls", route.count <= 3 else {
            return Self.notFound("The requested resource does not exist.")
        }
        guard let account = await authenticate(request) else {
            return Self.error(
                401, type: "unauthorized", title: "Unauthorized", detail: "You did not provide correct credentials.")
        }
        if route.count == 2 {
            guard request.method == "POST" else { return Self.methodNotAllowed() }
            return createCall(request, account: account)
        }
        let key = CallKey(provider: .vonage, id: route[2])
        guard let call = store.call(key), call.accountID == account.applicationID else {
            return Self.notFound("Call \(route[2]) doesn't exist.")
        }
        switch request.method {
        case "GET":
            return .json(200, callObject(call))
        case "PUT":
            return modify(request, call: call)
        default:
            return Self.methodNotAllowed()
        }
    }

    private func authenticate(_ request: IncomingRequest) async -> SimulatorAccounts.Vonage? {
        guard let token = request.bearerToken,
            let unverified = try? await JWTKeyCollection().unverified(token, as: ApplicationClaims.self),
            let applicationID = unverified.applicationID,
            let account = accounts.first(where: { $0.applicationID == applicationID }),
            let publicKey = try? Insecure.RSA.PublicKey(pem: account.applicationPublicKeyPEM)
        else { return nil }
        let keys = JWTKeyCollection()
        await keys.add(rsa: publicKey, digestAlgorithm: .sha256)
        guard let claims = try? await keys.verify(token, as: ApplicationClaims.self),
            claims.applicationID == applicationID, claims.issuedAt != nil, claims.jwtID?.isEmpty == false
        else { return nil }
        return account
    }

    /// Vonage's RFC 7807 error body: `{"type", "title", "detail", "instance"}`, plus `invalid_parameters` for validation.
    static func error(
        _ status: Int, type: String, title: String, detail: String, invalidParameters: [(String, String)] = []
    ) -> OutgoingResponse {
        var body: [String: JSONValue] = [
            "type": .string("https://developer.nexmo.com/api-errors#\(type)"), "title": .string(title),
            "detail": .string(detail), "instance": .string(RandomIdentifier.uuid()),
        ]
        if !invalidParameters.isEmpty {
            body["invalid_parameters"] = .array(
                invalidParameters.map { ["name": .string($0.0), "reason": .string($0.1)] })
        }
        return .json(status, .object(body))
    }

    private static func badRequest(_ name: String, _ reason: String) -> OutgoingResponse {
        error(
            400, type: "bad-request", title: "Bad Request", detail: "The request failed due to validation errors",
            invalidParameters: [(name, reason)])
    }

    private static func notFound(_ detail: String) -> OutgoingResponse {
        error(404, type: "not-found", title: "Not Found", detail: detail)
    }

    private static func methodNotAllowed() -> OutgoingResponse {
        error(405, type: "method-not-allowed", title: "Method Not Allowed", detail: "This method is not supported here.")
    }

    private func createCall(_ request: IncomingRequest, account: SimulatorAccounts.Vonage) -> OutgoingResponse {
        guard let fields = request.json?.objectValue else {
            return Self.error(
                400, type: "bad-request", title: "Bad Request", detail: "The request body is not a JSON object.")
        }
        guard let endpoints = fields["to"]?.arrayValue, let endpoint = endpoints.first?.objectValue else {
            return Self.badRequest("to", "is required and must be an array of endpoints")
        }
        let toType = endpoint["type"]?.stringValue ?? "phone"
        let destination: String
        switch toType {
        case "phone":
            guard let number = endpoint["number"]?.stringValue, Self.isMSISDN(number) else {
                return Self.badRequest("to[0].number", "must be 7 to 15 digits in E.164 without a leading + or 00")
            }
            destination = number
        case "sip", "websocket":
            guard let uri = endpoint["uri"]?.stringValue, !uri.isEmpty,
                toType == "websocket" || uri.lowercased().hasPrefix("sip:") || uri.lowercased().hasPrefix("sips:")
            else { return Self.badRequest("to[0].uri", "must be a valid \(toType) URI") }
            destination = uri
        case "app":
            guard let user = endpoint["user"]?.stringValue, !user.isEmpty else {
                return Self.badRequest("to[0].user", "is required")
            }
            destination = user
        case "vbc":
            guard let extensionNumber = endpoint["extension"]?.stringValue, !extensionNumber.isEmpty else {
                return Self.badRequest("to[0].extension", "is required")
            }
            destination = extensionNumber
        default:
            return Self.badRequest("to[0].type", "must be phone, sip, websocket, app or vbc")
        }

        let randomFrom = fields["random_from_number"]?.boolValue == true
        let from: String
        switch (fields["from"]?.objectValue, randomFrom) {
        case (nil, false):
            return Self.badRequest("from", "either from or random_from_number is required")
        case (.some, true):
            return Self.badRequest("from", "from and random_from_number cannot be used together")
        case (nil, true):
            guard let number = account.msisdns.first else {
                return Self.error(403, type: "forbidden", title: "Forbidden", detail: "The application has no numbers.")
            }
            from = number
        case (let object?, false):
            guard object["type"]?.stringValue ?? "phone" == "phone",
                let number = object["number"]?.stringValue, Self.isMSISDN(number)
            else { return Self.badRequest("from.number", "must be 7 to 15 digits in E.164 without a leading + or 00") }
            guard account.msisdns.contains(number) else {
                return Self.error(
                    403, type: "forbidden", title: "Forbidden",
                    detail: "The from number \(number) is not linked to this application.")
            }
            from = number
        }

        switch (fields["ncco"], fields["answer_url"]) {
        case (nil, nil):
            return Self.badRequest("ncco", "either ncco or answer_url is required")
        case (.some, .some):
            return Self.badRequest("answer_url", "ncco and answer_url cannot be used together")
        case (let ncco?, nil):
            guard ncco.arrayValue != nil else { return Self.badRequest("ncco", "must be an array of actions") }
        case (nil, let answerURL?):
            guard let urls = answerURL.arrayValue?.compactMap(\.stringValue), urls.count == 1, isAbsoluteHTTPURL(urls[0])
            else { return Self.badRequest("answer_url", "must be an array containing one absolute URL") }
        }
        var eventURL: String?
        if let value = fields["event_url"] {
            guard let urls = value.arrayValue?.compactMap(\.stringValue), urls.count == 1, isAbsoluteHTTPURL(urls[0]) else {
                return Self.badRequest("event_url", "must be an array containing one absolute URL")
            }
            eventURL = urls[0]
        }
        for name in ["answer_method", "event_method"] {
            if let method = fields[name], method.stringValue != "GET" && method.stringValue != "POST" {
                return Self.badRequest(name, "must be GET or POST")
            }
        }
        if let value = fields["ringing_timer"], !(value.intValue.map { (1...120).contains($0) } ?? false) {
            return Self.badRequest("ringing_timer", "must be an integer between 1 and 120")
        }
        if let value = fields["length_timer"], !(value.intValue.map { (1...86400).contains($0) } ?? false) {
            return Self.badRequest("length_timer", "must be an integer between 1 and 86400")
        }
        if let value = fields["machine_detection"], value.stringValue != "continue" && value.stringValue != "hangup" {
            return Self.badRequest("machine_detection", "must be continue or hangup")
        }

        let details = VonageCallDetails(
            conversationUUID: "CON-" + RandomIdentifier.uuid(), toType: toType,
            eventURL: eventURL ?? account.applicationEventURL,
            eventMethod: fields["event_method"]?.stringValue ?? "POST")
        let call = SimulatedCall(
            key: CallKey(provider: .vonage, id: RandomIdentifier.uuid()), accountID: account.applicationID, from: from,
            to: destination, createdAt: Date(), details: .vonage(details))
        store.place(call)
        return .json(
            201,
            [
                "uuid": .string(call.key.id), "status": "started", "direction": "outbound",
                "conversation_uuid": .string(details.conversationUUID),
            ])
    }

    private func modify(_ request: IncomingRequest, call: SimulatedCall) -> OutgoingResponse {
        guard let action = request.json?["action"]?.stringValue else {
            return Self.badRequest("action", "is required")
        }
        guard Self.actions.contains(action) else {
            return Self.badRequest("action", "must be one of \(Self.actions.sorted().joined(separator: ", "))")
        }
        let notActive = Self.error(
            400, type: "bad-request", title: "Bad Request", detail: "The call \(call.key.id) is not active.")
        guard !call.hasEnded else { return notActive }
        if action == "hangup" {
            guard store.hangUp(call.key)?.end != nil else { return notActive }
        }
        if action == "transfer" {
            // `{"action":"transfer","destination":{"type":"ncco","url":[…]}}` or `…"ncco":[…]}` (voice.yml
            // `updateCall`). The leg moves to the new NCCO and the event URL gets a `transfer` event.
            guard let destination = request.json?["destination"]?.objectValue,
                destination["type"]?.stringValue == "ncco"
            else { return Self.badRequest("destination", "must be an object with type ncco") }
            let url = destination["url"]?.arrayValue?.compactMap(\.stringValue)
            switch (url, destination["ncco"]?.arrayValue) {
            case (let urls?, nil) where urls.count == 1 && isAbsoluteHTTPURL(urls[0]): break
            case (nil, .some): break
            default: return Self.badRequest("destination", "needs either url (one absolute URL) or ncco (an array)")
            }
            store.deliverLater { deliverer in
                for webhook in await self.transferWebhooks(call) { await deliverer.deliver(webhook) }
            }
        }
        return .empty(204)
    }

    /// The `transfer` event, shaped as the webhook reference's example (`event.transfer.json`): no `status`; the
    /// conversation the leg left and the one it joined (the same one: a transfer to an NCCO keeps the conversation).
    func transferWebhooks(_ call: SimulatedCall) async -> [PreparedWebhook] {
        guard case .vonage(let details) = call.details, let url = details.eventURL,
            let account = accounts.first(where: { $0.applicationID == call.accountID })
        else { return [] }
        let body: [String: JSONValue] = [
            "conversation_uuid_from": .string(details.conversationUUID),
            "conversation_uuid_to": .string(details.conversationUUID), "uuid": .string(call.key.id),
            "timestamp": .string(Timestamp.iso8601(Date())),
        ]
        return [await signed(body, url: url, account: account)]
    }

    /// 7 to 15 digits, the first not zero: Vonage numbers carry no `+` or `00`.
    private static func isMSISDN(_ text: String) -> Bool {
        (7...15).contains(text.count) && text.allSatisfy { $0.isASCII && $0.isNumber } && text.first != "0"
    }

    /// Vonage's status for the call's phase.
    private static func status(_ call: SimulatedCall) -> String {
        switch call.phase {
        case .queued, .initiated: return "started"
        case .ringing: return "ringing"
        case .answered: return "answered"
        case .ended(let end): return endStatus(end)
        }
    }

    private static func endStatus(_ end: CallEnd) -> String {
        switch end {
        case .completed, .hungUpByCaller: return "completed"
        case .canceled: return "cancelled"
        case .busy: return "busy"
        case .noAnswer: return "timeout"
        case .failed: return "failed"
        }
    }

    private func endpoint(_ address: String, type: String) -> JSONValue {
        switch type {
        case "phone": return ["type": "phone", "number": .string(address)]
        case "app": return ["type": "app", "user": .string(address)]
        case "vbc": return ["type": "vbc", "extension": .string(address)]
        default: return ["type": .string(type), "uri": .string(address)]
        }
    }

    private func callObject(_ call: SimulatedCall) -> JSONValue {
        guard case .vonage(let details) = call.details else { return [:] }
        var object: [String: JSONValue] = [
            "_links": ["self": ["href": .string("/v1/calls/\(call.key.id)")]], "uuid": .string(call.key.id),
            "conversation_uuid": .string(details.conversationUUID), "to": endpoint(call.to, type: details.toType),
            "from": endpoint(call.from, type: "phone"), "status": .string(Self.status(call)), "direction": "outbound",
            "rate": "0.01270000", "start_time": .string(Timestamp.iso8601(call.createdAt)), "network": "310260",
        ]
        if let endedAt = call.endedAt {
            object["end_time"] = .string(Timestamp.iso8601(endedAt))
            object["duration"] = .string(String(call.durationSeconds))
            object["price"] = .string(Self.price(seconds: call.durationSeconds))
        }
        return .object(object)
    }

    private static func price(seconds: Int) -> String {
        String(format: "%.8f", Double(seconds) / 60 * 0.0127)
    }

    // MARK: - Account API

    /// Answers a request whose path followed `/vonage-rest`.
    func handleRest(_ request: IncomingRequest, route: [String]) -> OutgoingResponse {
        guard route.count == 2, route[0] == "account", ["numbers", "get-balance"].contains(route[1]) else {
            return .json(404, ["error-code": "404", "error-code-label": "not found"])
        }
        guard request.method == "GET" else {
            return .json(405, ["error-code": "405", "error-code-label": "method not allowed"])
        }
        let query = request.queryParameters
        let key = query.first { $0.0 == "api_key" }?.1 ?? request.basicCredentials?.user
        let secret = query.first { $0.0 == "api_secret" }?.1 ?? request.basicCredentials?.password
        guard let account = accounts.first(where: { $0.apiKey == key && $0.apiSecret == secret }) else {
            return .json(401, ["error-code": "401", "error-code-label": "authentication failed"])
        }
        if route[1] == "get-balance" {
            return .json(200, ["value": 10.5, "autoReload": false])
        }
        return listNumbers(account, query: Dictionary(query, uniquingKeysWith: { first, _ in first }))
    }

    /// `GET /account/numbers`: `size` 1–100 (default 10) and `index` from 1 (default 1); `count` is the whole
    /// account's, and an account with no numbers answers without `numbers` (Nexmo/api-specification
    /// `definitions/numbers.yml`, `getOwnedNumbers`).
    private func listNumbers(_ account: SimulatorAccounts.Vonage, query: [String: String]) -> OutgoingResponse {
        guard let size = query["size"].map({ Int($0) }) ?? 10, (1...100).contains(size) else {
            return .json(400, ["error-code": "400", "error-code-label": "size must be between 1 and 100"])
        }
        guard let index = query["index"].map({ Int($0) }) ?? 1, index >= 1 else {
            return .json(400, ["error-code": "400", "error-code-label": "index must be 1 or more"])
        }
        let all = account.msisdns
        let start = min((index - 1) * size, all.count)
        let numbers: [JSONValue] = all[start..<min(start + size, all.count)].map { number in
            [
                "country": number.hasPrefix("1") ? "US" : "GB", "msisdn": .string(number), "type": "landline",
                "features": ["VOICE", "SMS", "MMS"], "voiceCallbackType": "app",
                "voiceCallbackValue": .string(account.applicationID),
            ]
        }
        guard !all.isEmpty else { return .json(200, ["count": 0]) }
        return .json(200, ["count": .int(all.count), "numbers": .array(numbers)])
    }

    // MARK: - Event webhooks

    func webhooks(for event: LifecycleEvent, call: SimulatedCall) async -> [PreparedWebhook] {
        guard case .vonage(let details) = call.details, let url = details.eventURL,
            let account = accounts.first(where: { $0.applicationID == call.accountID })
        else { return [] }
        var body: [String: JSONValue] = [
            "uuid": .string(call.key.id), "conversation_uuid": .string(details.conversationUUID),
            "direction": "outbound", "from": .string(call.from), "to": .string(call.to),
            "timestamp": .string(Timestamp.iso8601(Date())),
        ]
        switch event {
        case .initiated:
            body["status"] = "started"
        case .ringing:
            body["status"] = "ringing"
        case .answered:
            body["status"] = "answered"
            body["start_time"] = .null
            body["rate"] = .null
            body["network"] = .null
        case .ended(let end):
            body["status"] = .string(Self.endStatus(end))
            if end == .completed || end == .hungUpByCaller {
                body["start_time"] = .string(Timestamp.iso8601(call.answeredAt ?? call.createdAt))
                body["end_time"] = .string(Timestamp.iso8601(call.endedAt ?? Date()))
                body["duration"] = .string(String(call.durationSeconds))
                body["rate"] = "0.01270000"
                body["price"] = .string(Self.price(seconds: call.durationSeconds))
                body["network"] = "310260"
            }
            if end == .failed { body["detail"] = "unavailable" }
        }
        return [await signed(body, url: url, account: account)]
    }

    /// An event webhook to `url`, signed as Vonage signs them: an HS256 JWT with the body's SHA-256.
    private func signed(_ body: [String: JSONValue], url: String, account: SimulatorAccounts.Vonage) async -> PreparedWebhook {
        let bytes = JSONValue.object(body).serialized()
        let hash = SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
        let claims = WebhookClaims(
            issuedAt: Int(Date().timeIntervalSince1970), jwtID: RandomIdentifier.uuid(), issuer: "Vonage",
            payloadHash: hash, apiKey: account.apiKey, applicationID: account.applicationID)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: account.signatureSecret), digestAlgorithm: .sha256)
        let token = (try? await keys.sign(claims)) ?? ""
        let headers: [(String, String)] = [
            ("Content-Type", "application/json"), ("User-Agent", "Vonage-Voice-Events"),
            ("Authorization", "Bearer " + token),
        ]
        return PreparedWebhook(provider: .vonage, url: url, method: "POST", headers: headers, body: bytes)
    }
}
