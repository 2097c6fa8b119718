import Foundation

/// The Plivo Voice API (v1) subset Switchboard uses, and Plivo's signed callbacks.
struct PlivoAPI: WebhookSource {
    let accounts: [SimulatorAccounts.Plivo]
    let store: SimulatorStore

    /// Answers a request whose path followed `/plivo`.
    func handle(_ request: IncomingRequest, route: [String]) async -> OutgoingResponse {
        // Plivo paths end with a slash, which leaves an empty last segment.
        guard route.count >= 4, route[0] == "v1", route[1] == "Account", route.last == "" else {
            return Self.error(404, "not found")
        }
        let authID = route[2]
        guard let credentials = request.basicCredentials, credentials.user == authID,
            let account = accounts.first(where: { $0.authID == authID && $0.authToken == credentials.password })
        else {
            return Self.error(401, "Authentication failed: the auth_id or auth_token is not valid.")
        }
        let rest = Array(route.dropFirst(3).dropLast())
        switch (request.method, rest.count) {
        case ("GET", 0):
            return .json(200, accountObject(account))
        case ("POST", 1) where rest[0] == "Call":
            return createCall(request, account: account)
        case ("GET", 2) where rest[0] == "Call":
            return getCall(rest[1], request: request, account: account)
        case ("GET", 1) where rest[0] == "Call"
            && Dictionary(request.queryParameters, uniquingKeysWith: { first, _ in first })["status"] == "live":
            // The live calls' ids (plivo-python `resources/live_calls.py` `list_ids`).
            let ids: [JSONValue] = store.read { world in
                world.calls.values.compactMap { call in
                    guard call.accountID == account.authID, call.isLive, !call.hasEnded, case .plivo(let details) = call.details
                    else { return nil }
                    return .string(details.callUUID)
                }
            }
            return .json(200, ["api_id": .string(RandomIdentifier.uuid()), "calls": .array(ids)])
        case ("DELETE", 2) where rest[0] == "Call":
            // Only a live call (ringing or answered), named by its CallUUID, can be hung up; a queued one is
            // cancelled through its request (plivo-python `resources/calls.py`: `delete` vs `cancel`).
            guard let call = liveCall(rest[1], account: account), store.hangUp(call.key)?.end != nil
            else { return Self.error(404, "not found") }
            return .empty(204)
        case ("DELETE", 2) where rest[0] == "Request":
            guard let call = ownedCall(rest[1], account: account), !call.hasEnded, !call.isLive,
                store.hangUp(call.key)?.end != nil
            else { return Self.error(404, "not found") }
            return .empty(204)
        case ("GET", 1) where rest[0] == "Number":
            return listNumbers(account, request: request)
        case (_, 0):
            return Self.error(405, "method not allowed")
        case (_, 1) where ["Call", "Number"].contains(rest[0]):
            return Self.error(405, "method not allowed")
        case (_, 2) where rest[0] == "Call" || rest[0] == "Request":
            return Self.error(405, "method not allowed")
        default:
            return Self.error(404, "not found")
        }
    }

    /// Plivo's error body: `{"api_id", "error"}`.
    static func error(_ status: Int, _ message: String) -> OutgoingResponse {
        .json(status, ["api_id": .string(RandomIdentifier.uuid()), "error": .string(message)])
    }

    private func ownedCall(_ id: String, account: SimulatorAccounts.Plivo) -> SimulatedCall? {
        guard let call = store.call(CallKey(provider: .plivo, id: id)), call.accountID == account.authID else { return nil }
        return call
    }

    /// The account's call whose live id (`CallUUID`) is `callUUID`.
    private func callByUUID(_ callUUID: String, account: SimulatorAccounts.Plivo) -> SimulatedCall? {
        store.read { world in
            world.calls.values.first { call in
                guard call.accountID == account.authID, case .plivo(let details) = call.details else { return false }
                return details.callUUID == callUUID
            }
        }
    }

    /// A ringing or answered call by its `CallUUID`.
    private func liveCall(_ callUUID: String, account: SimulatorAccounts.Plivo) -> SimulatedCall? {
        callByUUID(callUUID, account: account).flatMap { $0.isLive && !$0.hasEnded ? $0 : nil }
    }

    /// `GET /Call/{id}/`: with `?status=live` a live call by its CallUUID, with `?status=queued` a queued request by
    /// its request_uuid, and without a status the record (CDR) of an ended call by its CallUUID — a call in another
    /// state is not found there, as on Plivo.
    private func getCall(_ id: String, request: IncomingRequest, account: SimulatorAccounts.Plivo) -> OutgoingResponse {
        let status = Dictionary(request.queryParameters, uniquingKeysWith: { first, _ in first })["status"]
        switch status {
        case "live":
            guard let call = liveCall(id, account: account), case .plivo(let details) = call.details else {
                return Self.error(404, "not found")
            }
            return .json(
                200,
                [
                    "api_id": .string(RandomIdentifier.uuid()), "call_status": .string(Self.status(call)),
                    "call_uuid": .string(details.callUUID), "caller_name": "", "direction": "outbound",
                    "from": .string(digitsOnly(call.from)), "request_uuid": .string(call.key.id),
                    "session_start": .string(Timestamp.plivoSession(call.createdAt)), "to": .string(digitsOnly(call.to)),
                ])
        case "queued":
            guard let call = ownedCall(id, account: account), !call.hasEnded, !call.isLive else {
                return Self.error(404, "not found")
            }
            return .json(
                200,
                [
                    // Shaped as plivo-dotnet's `queuedCallGetResponse.json`: the request's id is its `call_uuid`.
                    "api_id": .string(RandomIdentifier.uuid()), "call_status": "queued", "call_uuid": .string(call.key.id),
                    "caller_name": "", "direction": "outbound", "from": .string(digitsOnly(call.from)),
                    "to": .string(digitsOnly(call.to)),
                ])
        case nil:
            guard let call = callByUUID(id, account: account), call.hasEnded else { return Self.error(404, "not found") }
            return .json(200, callRecord(call))
        default:
            return Self.error(400, "status must be live or queued")
        }
    }

    /// A Plivo number: digits with an optional `+`, 7 to 15 digits, the first not zero.
    private static func isNumber(_ text: String) -> Bool {
        let digits = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        return (7...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber } && digits.first != "0"
    }

    private func createCall(_ request: IncomingRequest, account: SimulatorAccounts.Plivo) -> OutgoingResponse {
        var fields: [String: String] = [:]
        if let object = request.json?.objectValue {
            for (name, value) in object {
                switch value {
                case .string(let text): fields[name] = text
                case .int(let number): fields[name] = String(number)
                case .double(let number): fields[name] = String(number)
                case .bool(let flag): fields[name] = flag ? "true" : "false"
                default: break
                }
            }
        } else if request.mediaType == "application/x-www-form-urlencoded" {
            for (name, value) in request.formParameters { fields[name] = value }
        } else {
            return Self.error(400, "the request body must be JSON (application/json)")
        }
        for name in ["from", "to", "answer_url"] where (fields[name] ?? "").isEmpty {
            return Self.error(400, "Missing mandatory parameter: \(name)")
        }
        let from = fields["from"] ?? ""
        let to = fields["to"] ?? ""
        let answerURL = fields["answer_url"] ?? ""
        guard Self.isNumber(from) else { return Self.error(400, "invalid from number: \(from)") }
        guard !to.contains("<") else {
            return Self.error(400, "bulk calls (several 'to' numbers) are not supported by the simulator")
        }
        guard Self.isNumber(to) || to.lowercased().hasPrefix("sip:") else {
            return Self.error(400, "invalid to number: \(to)")
        }
        guard account.numbers.map(digitsOnly).contains(digitsOnly(from)) else {
            return Self.error(400, "from number \(from) is not a Plivo number or verified caller ID on this account")
        }
        for name in ["answer_url", "hangup_url", "ring_url", "fallback_url"] {
            if let url = fields[name], !url.isEmpty, !isAbsoluteHTTPURL(url) {
                return Self.error(400, "invalid \(name): \(url)")
            }
        }
        for name in ["answer_method", "hangup_method", "ring_method", "fallback_method"] {
            if let method = fields[name], !["GET", "POST"].contains(method.uppercased()) {
                return Self.error(400, "\(name) must be GET or POST")
            }
        }
        for name in ["time_limit", "ring_timeout", "hangup_on_ring", "machine_detection_time"] {
            if let value = fields[name], !(Int(value).map { $0 >= 0 } ?? false) {
                return Self.error(400, "\(name) must be a non-negative integer")
            }
        }

        let details = PlivoCallDetails(
            answerURL: answerURL, answerMethod: fields["answer_method"]?.uppercased() ?? "POST",
            hangupURL: fields["hangup_url"].flatMap { $0.isEmpty ? nil : $0 },
            hangupMethod: fields["hangup_method"]?.uppercased() ?? "POST",
            ringURL: fields["ring_url"].flatMap { $0.isEmpty ? nil : $0 },
            ringMethod: fields["ring_method"]?.uppercased() ?? "POST", callUUID: RandomIdentifier.uuid())
        let call = SimulatedCall(
            key: CallKey(provider: .plivo, id: RandomIdentifier.uuid()), accountID: account.authID, from: from, to: to,
            createdAt: Date(), details: .plivo(details))
        store.place(call)
        return .json(
            201,
            ["api_id": .string(RandomIdentifier.uuid()), "message": "call fired", "request_uuid": .string(call.key.id)])
    }

    /// Plivo's `CallStatus` for the call's phase.
    private static func status(_ call: SimulatedCall) -> String {
        switch call.phase {
        case .queued, .initiated: return "queued"
        case .ringing: return "ringing"
        case .answered: return "in-progress"
        case .ended(.completed), .ended(.hungUpByCaller): return "completed"
        case .ended(.canceled): return "cancel"
        case .ended(.busy): return "busy"
        case .ended(.noAnswer): return "no-answer"
        case .ended(.failed): return "failed"
        }
    }

    private static func hangupCause(_ end: CallEnd) -> (cause: String, name: String, source: String) {
        switch end {
        case .completed: return ("NORMAL_CLEARING", "Normal Hangup", "Callee")
        case .hungUpByCaller: return ("NORMAL_CLEARING", "Normal Hangup", "API Request")
        case .canceled: return ("ORIGINATOR_CANCEL", "Cancelled", "API Request")
        case .busy: return ("USER_BUSY", "Busy Line", "Callee")
        case .noAnswer: return ("NO_ANSWER", "No Answer", "Plivo")
        case .failed: return ("CALL_REJECTED", "Rejected", "Callee")
        }
    }

    /// The published call-state word of an ended call's record (`call_state`, e.g. `ANSWER`).
    static func callState(_ call: SimulatedCall) -> String {
        if call.answeredAt != nil { return "ANSWER" }
        switch call.end {
        case .busy: return "BUSY"
        case .noAnswer: return "NO_ANSWER"
        case .canceled: return "CANCEL"
        default: return "FAILED"
        }
    }

    /// An ended call's record (`GET /Call/{call_uuid}/`), shaped as plivo-python's `callGetResponse.json` plus the
    /// documented `call_state` and hang-up fields.
    private func callRecord(_ call: SimulatedCall) -> JSONValue {
        guard case .plivo(let details) = call.details else { return [:] }
        var object: [String: JSONValue] = [
            "api_id": .string(RandomIdentifier.uuid()), "call_uuid": .string(details.callUUID),
            "call_state": .string(Self.callState(call)),
            "call_direction": "outbound", "call_duration": .int(call.durationSeconds),
            "bill_duration": .int(call.durationSeconds), "billed_duration": .int(call.durationSeconds),
            "from_number": .string(call.from), "to_number": .string(digitsOnly(call.to)),
            "initiation_time": .string(Timestamp.plivo(call.createdAt)),
            "answer_time": .optional(call.answeredAt.map(Timestamp.plivo)),
            "end_time": .optional(call.endedAt.map(Timestamp.plivo)), "parent_call_uuid": nil,
            "resource_uri": .string("/v1/Account/\(call.accountID)/Call/\(details.callUUID)/"),
            "total_amount": .string(String(format: "%.5f", Double(call.durationSeconds) / 60 * 0.0085)),
            "total_rate": "0.00850",
        ]
        if let end = call.end {
            object["hangup_cause_name"] = .string(Self.hangupCause(end).name)
            object["hangup_source"] = .string(Self.hangupCause(end).source)
        }
        return .object(object)
    }

    private func accountObject(_ account: SimulatorAccounts.Plivo) -> JSONValue {
        [
            "account_type": "standard", "address": "", "api_id": .string(RandomIdentifier.uuid()),
            "auth_id": .string(account.authID), "auto_recharge": false, "billing_mode": "prepaid",
            "cash_credits": "100.00000", "city": "", "name": "Switchboard sandbox",
            "resource_uri": .string("/v1/Account/\(account.authID)/"), "state": "", "timezone": "Etc/UTC",
        ]
    }

    /// `GET /Number/`: `limit` 1–20 (default 20) and `offset`, `meta.next`/`previous` as relative links.
    private func listNumbers(_ account: SimulatorAccounts.Plivo, request: IncomingRequest) -> OutgoingResponse {
        let query = Dictionary(request.queryParameters, uniquingKeysWith: { first, _ in first })
        guard let limit = query["limit"].map({ Int($0) }) ?? 20, (1...20).contains(limit) else {
            return Self.error(400, "limit must be an integer between 1 and 20")
        }
        guard let offset = query["offset"].map({ Int($0) }) ?? 0, offset >= 0 else {
            return Self.error(400, "offset must be a non-negative integer")
        }
        let added = Timestamp.day(Date(timeIntervalSince1970: 1_704_067_200))
        let start = min(offset, account.numbers.count)
        let page = account.numbers[start..<min(start + limit, account.numbers.count)]
        let objects: [JSONValue] = page.map { number in
            let digits = digitsOnly(number)
            return [
                "added_on": .string(added), "alias": nil, "application": nil, "carrier": "Plivo",
                "monthly_rental_rate": "0.50000", "number": .string(digits), "number_type": "local",
                "region": "California, UNITED STATES", "resource_uri": .string("/v1/Account/\(account.authID)/Number/\(digits)/"),
                "sms_enabled": true, "sms_rate": "0.00000", "sub_account": nil, "active": true,
                "country": "United States", "mms_enabled": false, "mms_rate": "0.00000", "voice_enabled": true,
                "voice_rate": "0.00850",
            ]
        }
        func link(_ offset: Int) -> JSONValue {
            .string("/v1/Account/\(account.authID)/Number/?limit=\(limit)&offset=\(offset)")
        }
        return .json(
            200,
            [
                "api_id": .string(RandomIdentifier.uuid()),
                "meta": [
                    "limit": .int(limit), "next": offset + limit < account.numbers.count ? link(offset + limit) : nil,
                    "offset": .int(offset), "previous": offset > 0 ? link(max(0, offset - limit)) : nil,
                    "total_count": .int(account.numbers.count),
                ],
                "objects": .array(objects),
            ])
    }

    // MARK: - Callbacks

    func webhooks(for event: LifecycleEvent, call: SimulatedCall) async -> [PreparedWebhook] {
        guard case .plivo(let details) = call.details,
            let account = accounts.first(where: { $0.authID == call.accountID })
        else { return [] }
        let url: String
        let method: String
        let eventName: String
        switch event {
        case .initiated:
            return []
        case .ringing:
            guard let ringURL = details.ringURL else { return [] }
            (url, method, eventName) = (ringURL, details.ringMethod, "Ring")
        case .answered:
            (url, method, eventName) = (details.answerURL, details.answerMethod, "StartApp")
        case .ended:
            // Without a hangup_url Plivo sends the hangup to the answer_url.
            if let hangupURL = details.hangupURL {
                (url, method, eventName) = (hangupURL, details.hangupMethod, "Hangup")
            } else {
                (url, method, eventName) = (details.answerURL, details.answerMethod, "Hangup")
            }
        }
        // The request id and the live call's id, as documented for answer, ring and hangup URLs (the Plivo "Call"
        // page's parameter lists, copied into Tests/Fixtures/Published/plivo/callback.*.json); ALegUUID is not in
        // the ring_url list.
        var parameters: [(String, String)] = [("ALegRequestUUID", call.key.id)]
        if eventName != "Ring" { parameters.append(("ALegUUID", details.callUUID)) }
        parameters += [
            ("CallStatus", Self.status(call)), ("CallUUID", details.callUUID),
            ("Direction", "outbound"), ("Event", eventName), ("From", call.from), ("RequestUUID", call.key.id),
            ("SessionStart", Timestamp.plivoSession(call.createdAt)), ("To", call.to),
        ]
        if case .ended(let end) = event {
            // HangupCauseName, HangupSource and TotalCost are not confirmed by the published sources (SOURCES.md).
            let cause = Self.hangupCause(end)
            let seconds = call.durationSeconds
            parameters += [
                ("AnswerTime", call.answeredAt.map(Timestamp.plivo) ?? ""), ("BillDuration", String(seconds)),
                ("Duration", String(seconds)), ("EndTime", Timestamp.plivo(call.endedAt ?? Date())),
                ("HangupCause", cause.cause), ("HangupCauseName", cause.name), ("HangupSource", cause.source),
                ("StartTime", Timestamp.plivo(call.createdAt)),
                ("TotalCost", String(format: "%.5f", Double(seconds) / 60 * 0.0085)),
            ]
        }

        let nonce = RandomIdentifier.digits(20)
        let requestURL: String
        let body: [UInt8]
        var headers: [(String, String)] = [("User-Agent", "PlivoHTTP")]
        if method == "GET" {
            requestURL = url + (url.contains("?") ? "&" : "?") + FormEncoding.encode(parameters)
            body = []
        } else {
            requestURL = url
            body = Array(FormEncoding.encode(parameters).utf8)
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        }
        let signedParameters = method == "GET" ? [] : parameters
        headers += [
            ("X-Plivo-Signature-V2", WebhookSignatures.plivoV2(authToken: account.authToken, url: requestURL, nonce: nonce)),
            ("X-Plivo-Signature-V2-Nonce", nonce),
            (
                "X-Plivo-Signature-V3",
                WebhookSignatures.plivoV3(
                    authToken: account.authToken, method: method, url: requestURL, parameters: signedParameters,
                    nonce: nonce)
            ),
            ("X-Plivo-Signature-V3-Nonce", nonce),
        ]
        return [PreparedWebhook(provider: .plivo, url: requestURL, method: method, headers: headers, body: body)]
    }
}
