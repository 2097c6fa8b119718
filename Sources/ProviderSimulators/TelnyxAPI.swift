import Crypto
import Foundation

/// The Telnyx v2 Call Control API subset Switchboard uses, and Telnyx's signed webhooks.
struct TelnyxAPI: WebhookSource {
    let accounts: [SimulatorAccounts.Telnyx]
    let store: SimulatorStore

    private static let machineDetectionModes: Set<String> = [
        "premium", "detect", "detect_beep", "detect_words", "greeting_end", "disabled",
    ]

    /// Answers a request whose path followed `/telnyx`.
    func handle(_ request: IncomingRequest, route: [String]) async -> OutgoingResponse {
        guard route.first == "v2" else { return Self.notFound() }
        guard let token = request.bearerToken, let account = accounts.first(where: { $0.apiKey == token }) else {
            return Self.error(
                401, code: "10009", title: "Authentication failed",
                detail: "The required authentication headers were either invalid or not included in the request.")
        }
        let rest = Array(route.dropFirst())
        switch (request.method, rest.count) {
        case ("POST", 1) where rest[0] == "calls":
            return dial(request, account: account)
        case ("GET", 2) where rest[0] == "calls":
            guard let call = ownedCall(rest[1], account: account) else { return Self.notFound() }
            return .json(200, ["data": callObject(call)])
        case ("POST", 4) where rest[0] == "calls" && rest[2] == "actions":
            return action(rest[3], callControlID: rest[1], account: account)
        case ("GET", 1) where rest[0] == "phone_numbers":
            return listNumbers(account)
        case ("GET", 1) where rest[0] == "balance":
            return .json(
                200,
                [
                    "data": [
                        "record_type": "balance", "balance": "100.00", "available_credit": "100.00",
                        "credit_limit": "0.00", "currency": "USD", "pending": "0.00",
                    ]
                ])
        default:
            return Self.notFound()
        }
    }

    // MARK: - Errors

    /// Telnyx's error body: `{"errors": [{"code", "title", "detail", "source"?, "meta"}]}`.
    static func error(_ status: Int, code: String, title: String, detail: String, pointer: String? = nil) -> OutgoingResponse {
        var entry: [String: JSONValue] = [
            "code": .string(code), "title": .string(title), "detail": .string(detail),
            "meta": ["url": .string("https://developers.telnyx.com/docs/overview/errors/\(code)")],
        ]
        if let pointer { entry["source"] = ["pointer": .string(pointer)] }
        return .json(status, ["errors": [.object(entry)]])
    }

    private static func notFound() -> OutgoingResponse {
        error(404, code: "10005", title: "Resource not found", detail: "The requested resource or URL could not be found.")
    }

    private static func missing(_ name: String) -> OutgoingResponse {
        error(
            422, code: "10004", title: "Missing required parameter",
            detail: "The '\(name)' parameter is required.", pointer: "/\(name)")
    }

    private static func invalid(_ name: String, _ detail: String) -> OutgoingResponse {
        error(422, code: "10015", title: "Invalid value for parameter", detail: detail, pointer: "/\(name)")
    }

    // MARK: - Calls

    private func dial(_ request: IncomingRequest, account: SimulatorAccounts.Telnyx) -> OutgoingResponse {
        guard let body = request.json, let fields = body.objectValue else {
            return Self.error(
                400, code: "10015", title: "Bad Request",
                detail: "The request failed because it was not well-formed: send a JSON object as application/json.")
        }
        func text(_ name: String) -> String? {
            if let value = fields[name]?.stringValue, !value.isEmpty { return value }
            if let number = fields[name]?.intValue { return String(number) }
            return nil
        }

        guard let connectionID = text("connection_id") else { return Self.missing("connection_id") }
        let destinations: [String]
        if let single = fields["to"]?.stringValue, !single.isEmpty {
            destinations = [single]
        } else if let many = fields["to"]?.arrayValue?.compactMap(\.stringValue), !many.isEmpty {
            destinations = many
        } else {
            return Self.missing("to")
        }
        guard let from = text("from") else { return Self.missing("from") }
        for destination in destinations {
            // A single destination may carry DTMF digits after a comma.
            let address = String(destination.split(separator: ",", maxSplits: 1).first ?? "")
            guard isE164(address) || address.lowercased().hasPrefix("sip:") else {
                return Self.error(
                    422, code: "10016", title: "Phone number must be in +E.164 format",
                    detail: "The 'to' parameter must be a +E.164 phone number or a SIP URI.", pointer: "/to")
            }
        }
        guard isE164(from) else {
            return Self.error(
                422, code: "10016", title: "Phone number must be in +E.164 format",
                detail: "The 'from' parameter must be a +E.164 phone number.", pointer: "/from")
        }
        guard account.connectionIDs.contains(connectionID) else {
            return Self.error(
                422, code: "10017", title: "Associated resource does not exist",
                detail: "connection_id \(connectionID) is not a Call Control application of this account.",
                pointer: "/connection_id")
        }
        guard account.numbers.contains(from) else {
            return Self.error(
                403, code: "10010", title: "Authorization failed",
                detail: "The 'from' number \(from) does not belong to this account.", pointer: "/from")
        }
        let clientState = fields["client_state"]?.stringValue
        if let clientState, Data(base64Encoded: clientState) == nil {
            return Self.invalid("client_state", "client_state must be a valid Base-64 encoded string.")
        }
        if let value = fields["timeout_secs"], !(value.intValue.map { (5...600).contains($0) } ?? false) {
            return Self.invalid("timeout_secs", "timeout_secs must be an integer between 5 and 600.")
        }
        if let value = fields["time_limit_secs"], !(value.intValue.map { (30...14400).contains($0) } ?? false) {
            return Self.invalid("time_limit_secs", "time_limit_secs must be an integer between 30 and 14400.")
        }
        let webhookURL = fields["webhook_url"]?.stringValue
        if let webhookURL, !isAbsoluteHTTPURL(webhookURL) {
            return Self.error(
                422, code: "10003", title: "Invalid URL",
                detail: "The URL provided was invalid, malformed, or too long.", pointer: "/webhook_url")
        }
        if let method = fields["webhook_url_method"], method.stringValue != "POST" && method.stringValue != "GET" {
            return Self.invalid("webhook_url_method", "webhook_url_method must be POST or GET.")
        }
        if let record = fields["record"], record.stringValue != "record-from-answer" {
            return Self.invalid("record", "record must be record-from-answer.")
        }
        if let detection = fields["answering_machine_detection"],
            !(detection.stringValue.map(Self.machineDetectionModes.contains) ?? false)
        {
            return Self.invalid("answering_machine_detection", "answering_machine_detection is not a known mode.")
        }

        let details = TelnyxCallDetails(
            callLegID: RandomIdentifier.uuid(), callSessionID: RandomIdentifier.uuid(), connectionID: connectionID,
            clientState: clientState, webhookURL: webhookURL)
        let call = SimulatedCall(
            key: CallKey(provider: .telnyx, id: "v3:" + RandomIdentifier.base64URL(bytes: 40)), accountID: account.apiKey,
            from: from, to: destinations[0], createdAt: Date(), details: .telnyx(details))
        // Dialing is asynchronous, so the new call is reported as not yet alive.
        var data = callObject(call).objectValue ?? [:]
        data["is_alive"] = false
        let response = OutgoingResponse.json(200, ["data": .object(data)])
        let commandKey = fields["command_id"]?.stringValue.map { account.apiKey + "|" + $0 }
        return store.placeTelnyx(call, commandKey: commandKey, response: response, now: Date()) ?? response
    }

    private func action(_ name: String, callControlID: String, account: SimulatorAccounts.Telnyx) -> OutgoingResponse {
        guard ["hangup", "answer"].contains(name) else { return Self.notFound() }
        guard let call = ownedCall(callControlID, account: account) else {
            return Self.error(
                422, code: "90015", title: "Invalid Call Control ID",
                detail: "The call_control_id provided was not valid.", pointer: "/call_control_id")
        }
        let ended = Self.error(
            422, code: "90018", title: "Call has already ended",
            detail: "This call is no longer active and can't receive commands.")
        guard !call.hasEnded else { return ended }
        if name == "hangup" {
            guard store.hangUp(call.key)?.end != nil else { return ended }
        }
        // Answering applies to inbound legs; an outbound leg just acknowledges it.
        return .json(200, ["data": ["result": "ok"]])
    }

    private func ownedCall(_ callControlID: String, account: SimulatorAccounts.Telnyx) -> SimulatedCall? {
        guard let call = store.call(CallKey(provider: .telnyx, id: callControlID)), call.accountID == account.apiKey
        else { return nil }
        return call
    }

    private func callObject(_ call: SimulatedCall) -> JSONValue {
        guard case .telnyx(let details) = call.details else { return [:] }
        var data: [String: JSONValue] = [
            "call_control_id": .string(call.key.id), "call_leg_id": .string(details.callLegID),
            "call_session_id": .string(details.callSessionID), "client_state": .optional(details.clientState),
            "is_alive": .bool(!call.hasEnded), "record_type": "call", "call_duration": .int(call.durationSeconds),
            "start_time": .string(Timestamp.iso8601(call.createdAt)),
        ]
        if let endedAt = call.endedAt { data["end_time"] = .string(Timestamp.iso8601(endedAt)) }
        return .object(data)
    }

    private func listNumbers(_ account: SimulatorAccounts.Telnyx) -> OutgoingResponse {
        let created = Timestamp.iso8601(Date(timeIntervalSince1970: 1_704_067_200))
        let items: [JSONValue] = account.numbers.map { number in
            let digest = SHA256.hash(data: Data((account.apiKey + number).utf8))
            let id = "1" + digest.prefix(18).map { String($0 % 10) }.joined()
            return [
                "id": .string(id), "record_type": "phone_number", "phone_number": .string(number), "status": "active",
                "connection_id": .optional(account.connectionIDs.first), "connection_name": "switchboard-sandbox",
                "tags": [], "external_pin": nil, "t38_fax_gateway_enabled": false, "purchased_at": .string(created),
                "created_at": .string(created), "updated_at": .string(created), "phone_number_type": "local",
                "call_forwarding_enabled": true, "emergency_enabled": false, "billing_group_id": nil,
                "messaging_profile_id": nil, "messaging_profile_name": nil,
            ]
        }
        return .json(
            200,
            [
                "data": .array(items),
                "meta": [
                    "total_pages": 1, "total_results": .int(items.count), "page_number": 1, "page_size": 20,
                ],
            ])
    }

    // MARK: - Webhooks

    func webhooks(for event: LifecycleEvent, call: SimulatedCall) async -> [PreparedWebhook] {
        guard case .telnyx(let details) = call.details,
            let account = accounts.first(where: { $0.apiKey == call.accountID }),
            let url = details.webhookURL ?? account.connectionWebhookURL
        else { return [] }
        var payload: [String: JSONValue] = [
            "call_control_id": .string(call.key.id), "call_leg_id": .string(details.callLegID),
            "call_session_id": .string(details.callSessionID), "client_state": .optional(details.clientState),
            "connection_id": .string(details.connectionID), "from": .string(call.from), "to": .string(call.to),
            "direction": "outgoing", "start_time": .string(Timestamp.iso8601(call.createdAt)),
        ]
        let eventType: String
        switch event {
        case .initiated:
            eventType = "call.initiated"
            payload["state"] = "bridging"
        case .ringing:
            // Telnyx has no ringing event for outbound Call Control legs.
            return []
        case .answered:
            eventType = "call.answered"
            payload["state"] = "answered"
        case .ended(let end):
            eventType = "call.hangup"
            payload["state"] = "hangup"
            payload["end_time"] = .string(Timestamp.iso8601(call.endedAt ?? Date()))
            let (cause, source, sip) = Self.hangup(end)
            payload["hangup_cause"] = .string(cause)
            payload["hangup_source"] = .string(source)
            payload["sip_hangup_cause"] = .string(sip)
        }
        let body: JSONValue = [
            "data": [
                "record_type": "event", "event_type": .string(eventType), "id": .string(RandomIdentifier.uuid()),
                "occurred_at": .string(Timestamp.iso8601(Date())), "payload": .object(payload),
            ],
            "meta": ["attempt": 1, "delivered_to": .string(url)],
        ]
        let bytes = body.serialized()
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature =
            (try? account.webhookSigningKey.signature(for: Data((timestamp + "|").utf8) + Data(bytes)))
            .map { Data($0).base64EncodedString() } ?? ""
        let headers: [(String, String)] = [
            ("Content-Type", "application/json"), ("User-Agent", "telnyx-webhooks"),
            ("telnyx-signature-ed25519", signature), ("telnyx-timestamp", timestamp),
        ]
        return [PreparedWebhook(provider: .telnyx, url: url, method: "POST", headers: headers, body: bytes)]
    }

    private static func hangup(_ end: CallEnd) -> (cause: String, source: String, sip: String) {
        switch end {
        case .completed: return ("normal_clearing", "callee", "200")
        case .hungUpByCaller: return ("normal_clearing", "caller", "200")
        case .canceled: return ("originator_cancel", "caller", "487")
        case .busy: return ("user_busy", "callee", "486")
        case .noAnswer: return ("timeout", "unknown", "408")
        case .failed: return ("call_rejected", "callee", "603")
        }
    }
}
