import Crypto
import Foundation

/// The Telnyx v2 Call Control API subset Switchboard uses, and Telnyx's signed webhooks.
struct TelnyxAPI: WebhookSource {
    let accounts: [SimulatorAccounts.Telnyx]
    let store: SimulatorStore
    /// Signs the login tokens this simulator issues for telephony credentials (HS512).
    let tokenSecret: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }

    private static let machineDetectionModes: Set<String> = [
        "premium", "detect", "detect_beep", "detect_words", "greeting_end", "disabled",
    ]

    /// Answers a request whose path followed `/telnyx`.
    func handle(_ request: IncomingRequest, route: [String]) async -> OutgoingResponse {
        if route.first == "_sim" {
            return handleSimulatorRoute(request, route: Array(route.dropFirst()))
        }
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
            return action(rest[3], callControlID: rest[1], request: request, account: account)
        case (_, _) where rest.first == "conferences":
            return handleConferences(request, rest: Array(rest.dropFirst()), account: account)
        case (_, _) where rest.first == "telephony_credentials" || rest.first == "credential_connections":
            return handleCredentials(request, rest: rest, account: account)
        case ("GET", 1) where rest[0] == "phone_numbers":
            return listNumbers(account, request: request)
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

    /// Telnyx's 404.
    static func notFound() -> OutgoingResponse {
        error(404, code: "10005", title: "Resource not found", detail: "The requested resource or URL could not be found.")
    }

    /// A required parameter is missing (422, 10004).
    static func missing(_ name: String) -> OutgoingResponse {
        error(
            422, code: "10004", title: "Missing required parameter",
            detail: "The '\(name)' parameter is required.", pointer: "/\(name)")
    }

    /// A parameter has an invalid value (422, 10015).
    static func invalid(_ name: String, _ detail: String) -> OutgoingResponse {
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
        if let format = fields["record_format"], !["mp3", "wav"].contains(format.stringValue ?? "") {
            return Self.invalid("record_format", "record_format must be mp3 or wav.")
        }
        if let channels = fields["record_channels"], !["single", "dual"].contains(channels.stringValue ?? "") {
            return Self.invalid("record_channels", "record_channels must be single or dual.")
        }
        if let detection = fields["answering_machine_detection"],
            !(detection.stringValue.map(Self.machineDetectionModes.contains) ?? false)
        {
            return Self.invalid("answering_machine_detection", "answering_machine_detection is not a known mode.")
        }

        var details = TelnyxCallDetails(
            callLegID: RandomIdentifier.uuid(), callSessionID: RandomIdentifier.uuid(), connectionID: connectionID,
            clientState: clientState, webhookURL: webhookURL)
        if fields["record"] != nil {
            details.recording = (
                fields["record_format"]?.stringValue ?? "mp3", fields["record_channels"]?.stringValue ?? "single"
            )
        }
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

    /// `POST /calls/{id}/actions/{name}`: hangup, answer (which only inbound legs need), speak and record_start.
    private func action(
        _ name: String, callControlID: String, request: IncomingRequest, account: SimulatorAccounts.Telnyx
    ) -> OutgoingResponse {
        guard ["hangup", "answer", "speak", "record_start"].contains(name) else { return Self.notFound() }
        guard let call = ownedCall(callControlID, account: account) else {
            return Self.invalidCallControlID()
        }
        guard !call.hasEnded else { return Self.callEnded() }
        if name == "speak" { return speak(call, request: request, account: account) }
        if name == "record_start" { return startRecording(call, request: request) }
        if name == "hangup" {
            guard store.hangUp(call.key)?.end != nil else { return Self.callEnded() }
            leaveConference(call.key)
            return .json(200, ["data": ["result": "ok"]])
        }
        guard case .telnyx(let details) = call.details, details.direction == "incoming" else {
            // Answering applies to inbound legs; an outbound leg just acknowledges it.
            return .json(200, ["data": ["result": "ok"]])
        }
        return answerIncoming(call, request: request)
    }

    /// `actions/speak` (telnyx-python `calls/actions.py` `speak`): `payload` and `voice` are required; the leg
    /// reports `call.speak.started` and, once the text has been spoken, `call.speak.ended`.
    private func speak(_ call: SimulatedCall, request: IncomingRequest, account: SimulatorAccounts.Telnyx) -> OutgoingResponse {
        let fields = request.json?.objectValue ?? [:]
        guard let text = fields["payload"]?.stringValue, !text.isEmpty else { return Self.missing("payload") }
        guard let voice = fields["voice"]?.stringValue, !voice.isEmpty else { return Self.missing("voice") }
        guard call.answeredAt != nil else {
            return Self.error(422, code: "90034", title: "Call is not answered", detail: "The call must be answered to speak.")
        }
        guard case .telnyx(let details) = call.details,
            let url = Self.webhookURL(
                details, account: account, credentialConnectionWebhooks: store.read(\.credentialConnectionWebhooks))
        else { return .json(200, ["data": ["result": "ok"]]) }
        let payload: [String: JSONValue] = [
            "call_control_id": .string(call.key.id), "call_leg_id": .string(details.callLegID),
            "call_session_id": .string(details.callSessionID), "client_state": .optional(details.clientState),
            "connection_id": .string(details.connectionID),
        ]
        var ended = payload
        ended["status"] = "completed"
        store.deliverLater([
            signedEvent("call.speak.started", payload: payload, url: url, account: account),
            signedEvent("call.speak.ended", payload: ended, url: url, account: account),
        ])
        return .json(200, ["data": ["result": "ok"]])
    }

    /// `actions/record_start`: `format` (mp3, wav) and `channels` (single, dual) are required; the leg is
    /// recorded from now and reports `call.recording.saved` after its hangup.
    private func startRecording(_ call: SimulatedCall, request: IncomingRequest) -> OutgoingResponse {
        let fields = request.json?.objectValue ?? [:]
        guard let format = fields["format"]?.stringValue else { return Self.missing("format") }
        guard ["mp3", "wav"].contains(format) else { return Self.invalid("format", "format must be mp3 or wav.") }
        guard let channels = fields["channels"]?.stringValue else { return Self.missing("channels") }
        guard ["single", "dual"].contains(channels) else {
            return Self.invalid("channels", "channels must be single or dual.")
        }
        let started = store.update(call.key) { call -> Bool in
            guard !call.hasEnded, call.answeredAt != nil, case .telnyx(var details) = call.details else { return false }
            details.recording = (format, channels)
            call.details = .telnyx(details)
            return true
        }
        guard started?.0 == true else { return Self.callEnded() }
        return .json(200, ["data": ["result": "ok"]])
    }

    /// Answers a parked inbound (WebRTC) leg; `client_state` in the body replaces the leg's.
    private func answerIncoming(_ call: SimulatedCall, request: IncomingRequest) -> OutgoingResponse {
        let fields = request.json?.objectValue ?? [:]
        let clientState = fields["client_state"]?.stringValue
        if let clientState, Data(base64Encoded: clientState) == nil {
            return Self.invalid("client_state", "client_state must be a valid Base-64 encoded string.")
        }
        let answered = store.update(call.key) { call -> Bool in
            guard !call.hasEnded, call.answeredAt == nil, case .telnyx(var details) = call.details else { return false }
            if let clientState { details.clientState = clientState }
            call.details = .telnyx(details)
            call.phase = .answered
            call.answeredAt = Date()
            return true
        }
        guard let answered else { return Self.invalidCallControlID() }
        guard answered.0 else {
            if answered.1.hasEnded { return Self.callEnded() }
            return Self.error(
                422, code: "10015", title: "Call already answered",
                detail: "This call has already been answered and can't be answered again.")
        }
        store.announceAnswer(call.key)
        return .json(200, ["data": ["result": "ok"]])
    }

    /// A call control id that is unknown or another account's (422, 90015).
    static func invalidCallControlID() -> OutgoingResponse {
        error(
            422, code: "90015", title: "Invalid Call Control ID",
            detail: "The call_control_id provided was not valid.", pointer: "/call_control_id")
    }

    /// A command for a call that has ended (422, 90018).
    static func callEnded() -> OutgoingResponse {
        error(
            422, code: "90018", title: "Call has already ended",
            detail: "This call is no longer active and can't receive commands.")
    }

    /// The account's call with this call control id.
    func ownedCall(_ callControlID: String, account: SimulatorAccounts.Telnyx) -> SimulatedCall? {
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

    /// `GET /phone_numbers`: `page[number]` (from 1) and `page[size]` (1–250, default 20), with `meta.total_pages`.
    private func listNumbers(_ account: SimulatorAccounts.Telnyx, request: IncomingRequest) -> OutgoingResponse {
        let query = Dictionary(request.queryParameters, uniquingKeysWith: { first, _ in first })
        let pageNumber = query["page[number]"].map { Int($0) } ?? 1
        let pageSize = query["page[size]"].map { Int($0) } ?? 20
        guard let pageNumber, pageNumber >= 1 else {
            return Self.error(400, code: "10015", title: "Invalid page number", detail: "page[number] must be 1 or more.")
        }
        guard let pageSize, (1...250).contains(pageSize) else {
            return Self.error(
                400, code: "10015", title: "Invalid page size", detail: "page[size] must be between 1 and 250.")
        }
        let created = Timestamp.iso8601(Date(timeIntervalSince1970: 1_704_067_200))
        let start = min((pageNumber - 1) * pageSize, account.numbers.count)
        let page = account.numbers[start..<min(start + pageSize, account.numbers.count)]
        let items: [JSONValue] = page.map { number in
            let digest = SHA256.hash(data: Data((account.apiKey + number).utf8))
            let id = "1" + digest.prefix(18).map { String($0 % 10) }.joined()
            return [
                "id": .string(id), "record_type": "phone_number", "phone_number": .string(number), "status": "active",
                "connection_id": .optional(account.connectionIDs.first), "connection_name": "switchboard-sandbox",
                "tags": [], "external_pin": nil, "t38_fax_gateway_enabled": false, "purchased_at": .string(created),
                "created_at": .string(created), "updated_at": .string(created), "phone_number_type": "local",
                "country_iso_alpha2": .string(number.hasPrefix("+1") ? "US" : number.hasPrefix("+44") ? "GB" : "ZZ"),
                "call_forwarding_enabled": true, "emergency_enabled": false, "billing_group_id": nil,
                "messaging_profile_id": nil, "messaging_profile_name": nil,
            ]
        }
        let totalPages = max(1, (account.numbers.count + pageSize - 1) / pageSize)
        return .json(
            200,
            [
                "data": .array(items),
                "meta": [
                    "total_pages": .int(totalPages), "total_results": .int(account.numbers.count),
                    "page_number": .int(pageNumber), "page_size": .int(pageSize),
                ],
            ])
    }

    // MARK: - Webhooks

    /// Where a leg's events go: its `webhook_url`, else its connection's URL (a credential connection's as last set).
    static func webhookURL(
        _ details: TelnyxCallDetails, account: SimulatorAccounts.Telnyx, credentialConnectionWebhooks: [String: String]
    ) -> String? {
        if let url = details.webhookURL { return url }
        if account.credentialConnectionIDs.contains(details.connectionID) {
            return credentialConnectionWebhooks[details.connectionID]
        }
        return account.connectionWebhookURL
    }

    func webhooks(for event: LifecycleEvent, call: SimulatedCall) async -> [PreparedWebhook] {
        guard case .telnyx(let details) = call.details,
            let account = accounts.first(where: { $0.apiKey == call.accountID }),
            let url = Self.webhookURL(
                details, account: account, credentialConnectionWebhooks: store.read(\.credentialConnectionWebhooks))
        else { return [] }
        var payload: [String: JSONValue] = [
            "call_control_id": .string(call.key.id), "call_leg_id": .string(details.callLegID),
            "call_session_id": .string(details.callSessionID), "client_state": .optional(details.clientState),
            "connection_id": .string(details.connectionID), "from": .string(call.from), "to": .string(call.to),
            "start_time": .string(Timestamp.iso8601(call.createdAt)),
        ]
        let eventType: String
        // The published payload types (telnyx-python `types/call_initiated.py`, `call_answered.py`,
        // `call_hangup.py`): only call.initiated has `direction`; call.hangup has `start_time`, no `end_time`.
        switch event {
        case .initiated:
            eventType = "call.initiated"
            payload["direction"] = .string(details.direction)
            // An inbound leg waits, parked, for an answer command.
            payload["state"] = details.direction == "incoming" ? "parked" : "bridging"
        case .ringing:
            // Telnyx has no ringing event for outbound Call Control legs.
            return []
        case .answered:
            eventType = "call.answered"
            payload["state"] = "answered"
        case .ended(let end):
            eventType = "call.hangup"
            payload["state"] = "hangup"
            let (cause, source, sip) = Self.hangup(end, incoming: details.direction == "incoming")
            payload["hangup_cause"] = .string(cause)
            payload["hangup_source"] = .string(source)
            payload["sip_hangup_cause"] = .string(sip)
        }
        var webhooks = [signedEvent(eventType, payload: payload, url: url, account: account)]
        // A leg dialed with record-from-answer reports its recording after its hangup.
        if case .ended = event, let recording = details.recording, let answeredAt = call.answeredAt {
            let id = RandomIdentifier.uuid()
            let file = "https://recordings.telnyx-simulator.invalid/\(id)/recording.\(recording.format)"
            // Exactly the published payload (telnyx-python `types/call_recording_saved.py`): no call_control_id.
            let recordingPayload: [String: JSONValue] = [
                "call_leg_id": .string(details.callLegID), "call_session_id": .string(details.callSessionID),
                "client_state": .optional(details.clientState), "connection_id": .string(details.connectionID),
                "channels": .string(recording.channels),
                "recording_started_at": .string(Timestamp.iso8601Microseconds(answeredAt)),
                "recording_ended_at": .string(Timestamp.iso8601Microseconds(call.endedAt ?? Date())),
                "recording_urls": [
                    "mp3": recording.format == "mp3" ? .string(file) : nil,
                    "wav": recording.format == "wav" ? .string(file) : nil,
                ],
                "public_recording_urls": ["mp3": nil, "wav": nil],
            ]
            webhooks.append(signedEvent("call.recording.saved", payload: recordingPayload, url: url, account: account))
        }
        return webhooks
    }

    /// An event as Telnyx sends it: `{"data": {…, "payload"}, "meta"}`, signed with Ed25519 over `timestamp|body`.
    func signedEvent(
        _ eventType: String, payload: [String: JSONValue], url: String, account: SimulatorAccounts.Telnyx,
        occurredAt: Date = Date(), occurredAtInData: Bool = true
    ) -> PreparedWebhook {
        var data: [String: JSONValue] = [
            "record_type": "event", "event_type": .string(eventType), "id": .string(RandomIdentifier.uuid()),
            "payload": .object(payload),
        ]
        if occurredAtInData { data["occurred_at"] = .string(Timestamp.iso8601Microseconds(occurredAt)) }
        let body: JSONValue = [
            "data": .object(data),
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
        return PreparedWebhook(provider: .telnyx, url: url, method: "POST", headers: headers, body: bytes)
    }

    /// `.completed` means the far end hung up and `.hungUpByCaller` the API did; on an inbound leg the far end is the
    /// caller and the API side the callee.
    private static func hangup(_ end: CallEnd, incoming: Bool) -> (cause: String, source: String, sip: String) {
        switch end {
        case .completed: return ("normal_clearing", incoming ? "caller" : "callee", "200")
        case .hungUpByCaller: return ("normal_clearing", incoming ? "callee" : "caller", "200")
        case .canceled: return ("originator_cancel", "caller", "487")
        case .busy: return ("user_busy", "callee", "486")
        case .noAnswer: return ("timeout", "unknown", "408")
        // A number that does not exist: the published cause is not_found (SIP 404).
        case .failed: return ("not_found", "callee", "404")
        }
    }
}
