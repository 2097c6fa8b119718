import Crypto
import Foundation

/// The Twilio Voice REST API (2010-04-01) subset Switchboard uses, and Twilio's status callbacks.
struct TwilioAPI: WebhookSource {
    let accounts: [SimulatorAccounts.Twilio]
    let store: SimulatorStore

    static let apiVersion = "2010-04-01"
    private static let callbackEvents: Set<String> = ["initiated", "ringing", "answered", "completed"]
    private static let recordingCallbackEvents: Set<String> = ["in-progress", "completed", "absent"]

    /// Answers a request whose path followed `/twilio`.
    func handle(_ request: IncomingRequest, route: [String]) async -> OutgoingResponse {
        if route.first == "_sim" {
            return handleSimulatorRoute(request, route: Array(route.dropFirst()))
        }
        let resourcePath = "/" + route.joined(separator: "/")
        guard route.count >= 3, route[0] == Self.apiVersion, route[1] == "Accounts" else {
            return Self.notFound(resourcePath)
        }
        let accountOnly = route.count == 3 && route[2].hasSuffix(".json")
        let accountSID = accountOnly ? String(route[2].dropLast(5)) : route[2]
        guard let account = authenticate(request, accountSID: accountSID) else {
            return Self.unauthorized()
        }
        let rest = Array(route.dropFirst(3))
        let method = request.method
        if accountOnly {
            return method == "GET" ? .json(200, accountResource(account)) : Self.methodNotAllowed()
        }
        if rest == ["Calls.json"] {
            switch method {
            case "POST": return createCall(request, account: account)
            case "GET": return listCalls(account)
            default: return Self.methodNotAllowed()
            }
        }
        if rest.count == 2, rest[0] == "Calls", rest[1].hasSuffix(".json") {
            let callSID = String(rest[1].dropLast(5))
            switch method {
            case "GET":
                guard let call = store.call(CallKey(provider: .twilio, id: callSID)), call.accountID == account.accountSID
                else { return Self.notFound(resourcePath) }
                return .json(200, resource(call))
            case "POST":
                return updateCall(request, callSID: callSID, account: account, path: resourcePath)
            default:
                return Self.methodNotAllowed()
            }
        }
        if rest == ["IncomingPhoneNumbers.json"] {
            guard method == "GET" else { return Self.methodNotAllowed() }
            return listNumbers(account, request: request)
        }
        if let response = handleConferences(request, rest: rest, account: account, path: resourcePath) {
            return response
        }
        if rest.count == 2, rest[0] == "Applications", rest[1].hasSuffix(".json") {
            let sid = String(rest[1].dropLast(5))
            switch method {
            case "GET": return application(sid, account: account, path: resourcePath)
            case "POST": return updateApplication(request, sid: sid, account: account, path: resourcePath)
            default: return Self.methodNotAllowed()
            }
        }
        return Self.notFound(resourcePath)
    }

    // MARK: - Authentication and errors

    private func authenticate(_ request: IncomingRequest, accountSID: String) -> SimulatorAccounts.Twilio? {
        guard let credentials = request.basicCredentials,
            let account = accounts.first(where: { $0.accountSID == accountSID })
        else { return nil }
        if credentials.user == account.accountSID && credentials.password == account.authToken {
            return account
        }
        if account.apiKeys.contains(where: { $0.sid == credentials.user && $0.secret == credentials.password }) {
            return account
        }
        return nil
    }

    /// Twilio's error body: `{"code", "message", "more_info", "status"}`.
    static func error(_ status: Int, code: Int, message: String) -> OutgoingResponse {
        .json(
            status,
            [
                "code": .int(code), "message": .string(message),
                "more_info": .string("https://www.twilio.com/docs/errors/\(code)"), "status": .int(status),
            ])
    }

    private static func unauthorized() -> OutgoingResponse {
        var response = error(401, code: 20003, message: "Authenticate")
        response.headers.append(("WWW-Authenticate", "Basic realm=\"Twilio API\""))
        return response
    }

    /// Twilio's 405.
    static func methodNotAllowed() -> OutgoingResponse {
        error(405, code: 20004, message: "Method not allowed")
    }

    /// Twilio's 404 (code 20404).
    static func notFound(_ path: String) -> OutgoingResponse {
        error(404, code: 20404, message: "The requested resource \(path) was not found")
    }

    /// A 400 for an invalid parameter (code 20001).
    static func invalidParameter(_ message: String) -> OutgoingResponse {
        error(400, code: 20001, message: message)
    }

    // MARK: - Calls

    private func createCall(_ request: IncomingRequest, account: SimulatorAccounts.Twilio) -> OutgoingResponse {
        // Twilio reads only form bodies; anything else arrives as "no parameters".
        let parameters = request.formParameters
        func value(_ name: String) -> String? {
            parameters.first { $0.0 == name && !$0.1.isEmpty }?.1
        }

        guard let to = value("To") else {
            return Self.error(400, code: 21201, message: "No 'To' number is specified")
        }
        guard let from = value("From") else {
            return Self.error(400, code: 21213, message: "No 'From' number is specified")
        }
        let instructions = ["Url", "Twiml", "ApplicationSid"].filter { value($0) != nil }
        guard instructions.count == 1 else {
            return Self.error(
                400, code: 21205,
                message: instructions.isEmpty
                    ? "Url parameter is required. Provide exactly one of Url, Twiml or ApplicationSid."
                    : "Provide exactly one of Url, Twiml or ApplicationSid, not \(instructions.joined(separator: " and ")).")
        }
        let lowercasedTo = to.lowercased()
        guard isE164(to) || (lowercasedTo.hasPrefix("client:") && to.count > 7) || lowercasedTo.hasPrefix("sip:") else {
            return Self.error(400, code: 21211, message: "The 'To' number \(to) is not a valid phone number.")
        }
        guard isE164(from) else {
            return Self.error(400, code: 21212, message: "From is not a valid phone number: \(from)")
        }
        guard account.numbers.contains(from) else {
            return Self.error(
                400, code: 21210,
                message: "The source phone number provided, \(from), is not yet verified for your account. "
                    + "You may only make calls from phone numbers that you've verified or purchased from Twilio.")
        }
        if let url = value("Url"), !isAbsoluteHTTPURL(url) {
            return Self.error(400, code: 21205, message: "Url is not a valid URL: \(url)")
        }
        if let application = value("ApplicationSid"), !Self.isSID(application, prefix: "AP") {
            return Self.error(400, code: 21218, message: "Invalid ApplicationSid")
        }
        for name in ["Method", "FallbackMethod", "StatusCallbackMethod", "RecordingStatusCallbackMethod"] {
            if let method = value(name), method.uppercased() != "GET" && method.uppercased() != "POST" {
                return Self.invalidParameter("\(name) must be GET or POST")
            }
        }
        for name in ["StatusCallback", "FallbackUrl", "RecordingStatusCallback"] {
            if let url = value(name), !isAbsoluteHTTPURL(url) {
                return Self.error(400, code: 21205, message: "\(name) is not a valid URL: \(url)")
            }
        }
        let requestedEvents = parameters.filter { $0.0 == "StatusCallbackEvent" }
            .flatMap { $0.1.split(whereSeparator: { $0 == " " || $0 == "," }).map { String($0).lowercased() } }
        if let unknown = requestedEvents.first(where: { !Self.callbackEvents.contains($0) }) {
            return Self.invalidParameter("StatusCallbackEvent must be initiated, ringing, answered or completed, not \(unknown)")
        }
        if let timeout = value("Timeout"), !(Int(timeout).map { (1...600).contains($0) } ?? false) {
            return Self.invalidParameter("Timeout must be an integer between 1 and 600")
        }
        if let record = value("Record"), !["true", "false"].contains(record.lowercased()) {
            return Self.invalidParameter("Record must be true or false")
        }
        let recordingEvents = parameters.filter { $0.0 == "RecordingStatusCallbackEvent" }
            .flatMap { $0.1.split(whereSeparator: { $0 == " " || $0 == "," }).map { String($0).lowercased() } }
        if let unknown = recordingEvents.first(where: { !Self.recordingCallbackEvents.contains($0) }) {
            return Self.invalidParameter(
                "RecordingStatusCallbackEvent must be in-progress, completed or absent, not \(unknown)")
        }
        if let detection = value("MachineDetection"), !["Enable", "DetectMessageEnd"].contains(detection) {
            return Self.invalidParameter("MachineDetection must be Enable or DetectMessageEnd")
        }

        var details = TwilioCallDetails(
            statusCallback: value("StatusCallback"),
            statusCallbackMethod: value("StatusCallbackMethod")?.uppercased() ?? "POST",
            // Without StatusCallbackEvent Twilio reports only the end of the call.
            statusCallbackEvents: requestedEvents.isEmpty ? ["completed"] : Set(requestedEvents),
            phoneNumberSID: Self.phoneNumberSID(account: account.accountSID, number: from))
        if let url = value("Url") {
            details.instructions = .url(url, method: value("Method")?.uppercased() ?? "POST")
        } else if let twiml = value("Twiml") {
            details.instructions = .twiml(twiml)
        } else if let application = value("ApplicationSid") {
            details.instructions = .application(application)
        }
        details.record = value("Record")?.lowercased() == "true"
        details.recordingStatusCallback = value("RecordingStatusCallback")
        details.recordingStatusCallbackMethod = value("RecordingStatusCallbackMethod")?.uppercased() ?? "POST"
        if !recordingEvents.isEmpty { details.recordingStatusCallbackEvents = Set(recordingEvents) }
        let call = SimulatedCall(
            key: CallKey(provider: .twilio, id: "CA" + RandomIdentifier.hex(32)), accountID: account.accountSID,
            from: from, to: to, createdAt: Date(), details: .twilio(details))
        store.place(call)
        return .json(201, resource(call))
    }

    private func updateCall(
        _ request: IncomingRequest, callSID: String, account: SimulatorAccounts.Twilio, path: String
    ) -> OutgoingResponse {
        let key = CallKey(provider: .twilio, id: callSID)
        guard let call = store.call(key), call.accountID == account.accountSID else { return Self.notFound(path) }
        let parameters = request.formParameters
        let status = parameters.first { $0.0 == "Status" }?.1
        let redirects = parameters.contains { ($0.0 == "Url" || $0.0 == "Twiml") && !$0.1.isEmpty }
        switch status {
        case "completed"?:
            let ended = store.hangUp(key)?.call ?? call
            leaveConference(key)
            return .json(200, resource(ended))
        case "canceled"?:
            // Canceling only affects calls not yet answered.
            guard call.answeredAt == nil else { return .json(200, resource(call)) }
            let ended = store.hangUp(key)?.call ?? call
            leaveConference(key)
            return .json(200, resource(ended))
        case let other?:
            return Self.invalidParameter("Status must be canceled or completed, not \(other)")
        case nil where redirects:
            guard !call.hasEnded else {
                return Self.error(400, code: 21220, message: "Call is not in-progress. Cannot redirect.")
            }
            return .json(200, resource(call))
        case nil:
            return .json(200, resource(call))
        }
    }

    private func listCalls(_ account: SimulatorAccounts.Twilio) -> OutgoingResponse {
        let calls = store.calls(provider: .twilio, accountID: account.accountSID)
        let uri = "/\(Self.apiVersion)/Accounts/\(account.accountSID)/Calls.json?PageSize=50&Page=0"
        return .json(
            200,
            [
                "calls": .array(calls.map(resource)), "end": .int(max(calls.count - 1, 0)),
                "first_page_uri": .string(uri), "next_page_uri": nil, "page": 0, "page_size": 50,
                "previous_page_uri": nil, "start": 0, "uri": .string(uri),
            ])
    }

    /// Twilio's call status for the call's phase.
    static func status(_ call: SimulatedCall) -> String {
        switch call.phase {
        case .queued, .initiated: return "queued"
        case .ringing: return "ringing"
        case .answered: return "in-progress"
        case .ended(.completed), .ended(.hungUpByCaller): return "completed"
        case .ended(.canceled): return "canceled"
        case .ended(.busy): return "busy"
        case .ended(.noAnswer): return "no-answer"
        case .ended(.failed): return "failed"
        }
    }

    /// The Call resource as Twilio returns it.
    func resource(_ call: SimulatedCall) -> JSONValue {
        let uri = "/\(Self.apiVersion)/Accounts/\(call.accountID)/Calls/\(call.key.id)"
        var phoneNumberSID: String?
        var direction = "outbound-api"
        if case .twilio(let details) = call.details {
            phoneNumberSID = details.phoneNumberSID
            direction = details.direction
        }
        let updated = [call.createdAt, call.ringingAt, call.answeredAt, call.endedAt].compactMap { $0 }.max() ?? call.createdAt
        let started: Date? = call.phase == .queued ? nil : call.createdAt
        return [
            "account_sid": .string(call.accountID), "answered_by": nil,
            "api_version": .string(Self.apiVersion), "caller_name": nil,
            "date_created": .string(Timestamp.rfc2822(call.createdAt)), "date_updated": .string(Timestamp.rfc2822(updated)),
            "direction": .string(direction), "duration": call.hasEnded ? .string(String(call.durationSeconds)) : nil,
            "end_time": .optional(call.endedAt.map(Timestamp.rfc2822)), "forwarded_from": nil,
            "from": .string(call.from), "from_formatted": .string(Self.formatted(call.from)), "group_sid": nil,
            "parent_call_sid": nil, "phone_number_sid": .optional(phoneNumberSID), "price": nil, "price_unit": "USD",
            "queue_time": "0", "sid": .string(call.key.id), "start_time": .optional(started.map(Timestamp.rfc2822)),
            "status": .string(Self.status(call)),
            "subresource_uris": [
                "notifications": .string(uri + "/Notifications.json"), "recordings": .string(uri + "/Recordings.json"),
                "payments": .string(uri + "/Payments.json"), "events": .string(uri + "/Events.json"),
                "siprec": .string(uri + "/Siprec.json"), "streams": .string(uri + "/Streams.json"),
                "transcriptions": .string(uri + "/Transcriptions.json"),
                "user_defined_message_subscriptions": .string(uri + "/UserDefinedMessageSubscriptions.json"),
                "user_defined_messages": .string(uri + "/UserDefinedMessages.json"),
            ],
            "to": .string(call.to), "to_formatted": .string(Self.formatted(call.to)), "trunk_sid": nil,
            "uri": .string(uri + ".json"),
        ]
    }

    // MARK: - Account and numbers

    private func accountResource(_ account: SimulatorAccounts.Twilio) -> JSONValue {
        let uri = "/\(Self.apiVersion)/Accounts/\(account.accountSID)"
        let created = Timestamp.rfc2822(Date(timeIntervalSince1970: 1_704_067_200))
        return [
            "auth_token": .string(account.authToken), "date_created": .string(created),
            "date_updated": .string(created), "friendly_name": "Switchboard sandbox account",
            "owner_account_sid": .string(account.accountSID), "sid": .string(account.accountSID), "status": "active",
            "subresource_uris": [
                "calls": .string(uri + "/Calls.json"),
                "incoming_phone_numbers": .string(uri + "/IncomingPhoneNumbers.json"),
            ],
            "type": "Full", "uri": .string(uri + ".json"),
        ]
    }

    /// `GET IncomingPhoneNumbers.json`: `PageSize` 1–1000 (default 50), `Page` from 0 with the `PageToken` the
    /// previous page's `next_page_uri` carries, `next_page_uri` null on the last page
    /// (twilio-oai `spec/json/twilio_api_v2010.json`, `ListIncomingPhoneNumber`).
    private func listNumbers(_ account: SimulatorAccounts.Twilio, request: IncomingRequest) -> OutgoingResponse {
        let query = Dictionary(request.queryParameters, uniquingKeysWith: { first, _ in first })
        let filter = query["PhoneNumber"]
        guard let pageSize = query["PageSize"].map({ Int($0) }) ?? 50, (1...1000).contains(pageSize) else {
            return Self.invalidParameter("PageSize must be an integer between 1 and 1000")
        }
        guard let page = query["Page"].map({ Int($0) }) ?? 0, page >= 0 else {
            return Self.invalidParameter("Page must be a non-negative integer")
        }
        let numbers = account.numbers.filter { filter == nil || $0 == filter }
        let start = min(page * pageSize, numbers.count)
        let end = min(start + pageSize, numbers.count)
        let sids = numbers.map { Self.phoneNumberSID(account: account.accountSID, number: $0) }
        if page > 0 {
            // Twilio's later pages are reached through next_page_uri; a page token that does not continue
            // from the previous page is refused.
            guard let token = query["PageToken"], start > 0, token == "PA" + sids[start - 1] else {
                return Self.invalidParameter("PageToken does not match Page")
            }
        }
        let base = "/\(Self.apiVersion)/Accounts/\(account.accountSID)/IncomingPhoneNumbers"
        let created = Timestamp.rfc2822(Date(timeIntervalSince1970: 1_704_067_200))
        let items: [JSONValue] = (start..<end).map { (index: Int) -> JSONValue in
            let number = numbers[index]
            let sid = sids[index]
            let item: [String: JSONValue] = [
                "account_sid": .string(account.accountSID), "address_requirements": "none",
                "api_version": .string(Self.apiVersion), "beta": false,
                "capabilities": ["fax": false, "mms": true, "sms": true, "voice": true],
                "date_created": .string(created), "date_updated": .string(created), "emergency_status": "Inactive",
                "friendly_name": .string(Self.formatted(number)), "identity_sid": nil, "origin": "twilio",
                "phone_number": .string(number), "sid": .string(sid), "status": "in-use", "status_callback": "",
                "status_callback_method": "POST", "trunk_sid": nil, "uri": .string("\(base)/\(sid).json"),
                "voice_application_sid": nil, "voice_caller_id_lookup": false, "voice_fallback_method": "POST",
                "voice_fallback_url": nil, "voice_method": "POST", "voice_url": nil,
            ]
            return .object(item)
        }
        let filterQuery = filter.map { (number: String) -> String in "&PhoneNumber=" + FormEncoding.percentEncode(number) } ?? ""
        let uri = base + ".json?PageSize=\(pageSize)&Page=\(page)" + filterQuery
        let next: JSONValue =
            end < numbers.count
            ? .string(base + ".json?PageSize=\(pageSize)&Page=\(page + 1)&PageToken=PA\(sids[end - 1])" + filterQuery)
            : nil
        let previous: JSONValue = page > 0 ? .string(base + ".json?PageSize=\(pageSize)&Page=\(page - 1)" + filterQuery) : nil
        return .json(
            200,
            [
                "end": .int(max(end - 1, start)), "first_page_uri": .string(base + ".json?PageSize=\(pageSize)&Page=0" + filterQuery),
                "incoming_phone_numbers": .array(items), "next_page_uri": next, "page": .int(page),
                "page_size": .int(pageSize), "previous_page_uri": previous, "start": .int(start), "uri": .string(uri),
            ])
    }

    /// A stable `PN…` SID for one of an account's numbers.
    static func phoneNumberSID(account: String, number: String) -> String {
        let digest = SHA256.hash(data: Data((account + number).utf8))
        return "PN" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    static func isSID(_ text: String, prefix: String) -> Bool {
        text.count == 34 && text.hasPrefix(prefix)
            && text.dropFirst(2).allSatisfy { $0.isHexDigit && ($0.isNumber || $0.isLowercase) }
    }

    /// `(415) 555-0100` for North American numbers; others as given.
    private static func formatted(_ number: String) -> String {
        let digits = digitsOnly(number)
        guard number.hasPrefix("+1"), digits.count == 11 else { return number }
        let national = Array(digits.dropFirst())
        return "(\(String(national[0..<3]))) \(String(national[3..<6]))-\(String(national[6..<10]))"
    }

    // MARK: - Status callbacks

    func webhooks(for event: LifecycleEvent, call: SimulatedCall) async -> [PreparedWebhook] {
        guard case .twilio(let details) = call.details,
            let account = accounts.first(where: { $0.accountSID == call.accountID })
        else { return [] }
        var webhooks: [PreparedWebhook] = []
        if let callback = details.statusCallback,
            let webhook = statusCallback(event, call: call, callback: callback, account: account)
        {
            webhooks.append(webhook)
        }
        // A recording made from answer to end is reported once the call has ended.
        if case .ended = event, let recording = recordingCallback(call, account: account) {
            webhooks.append(recording)
        }
        return webhooks
    }

    private func statusCallback(
        _ event: LifecycleEvent, call: SimulatedCall, callback: String, account: SimulatorAccounts.Twilio
    ) -> PreparedWebhook? {
        guard case .twilio(let details) = call.details else { return nil }
        let eventName: String
        switch event {
        case .initiated: eventName = "initiated"
        case .ringing: eventName = "ringing"
        case .answered: eventName = "answered"
        case .ended: eventName = "completed"
        }
        guard details.statusCallbackEvents.contains(eventName) else { return nil }

        // Sequence numbers count the callbacks actually sent for the call, from 0.
        let sequence =
            store.update(call.key) { call -> Int in
                guard case .twilio(var current) = call.details else { return 0 }
                defer {
                    current.sequenceNumber += 1
                    call.details = .twilio(current)
                }
                return current.sequenceNumber
            }?.0 ?? 0

        let callStatus = eventName == "initiated" ? "initiated" : Self.status(call)
        var parameters: [(String, String)] = [
            ("AccountSid", call.accountID), ("ApiVersion", Self.apiVersion), ("CallSid", call.key.id),
            ("CallStatus", callStatus), ("Called", call.to), ("Caller", call.from), ("Direction", details.direction),
            ("From", call.from), ("To", call.to), ("Timestamp", Timestamp.rfc2822(Date())),
            ("SequenceNumber", String(sequence)), ("CallbackSource", "call-progress-events"),
        ]
        if case .ended(let end) = event {
            let seconds = call.durationSeconds
            parameters += [("CallDuration", String(seconds))]
            // `Duration` (minutes, rounded up) is "only present in the completed event" (the status-callback
            // documentation's request parameters).
            if callStatus == "completed" { parameters += [("Duration", String((seconds + 59) / 60))] }
            parameters += [("SipResponseCode", Self.sipResponseCode(end))]
        }
        return Self.signedRequest(
            url: callback, method: details.statusCallbackMethod, parameters: parameters, authToken: account.authToken)
    }

    /// `RecordingStatusCallback` for an answered call created with `Record=true`, once it has ended.
    private func recordingCallback(_ call: SimulatedCall, account: SimulatorAccounts.Twilio) -> PreparedWebhook? {
        guard case .twilio(let details) = call.details, details.record, let answeredAt = call.answeredAt,
            let callback = details.recordingStatusCallback, details.recordingStatusCallbackEvents.contains("completed")
        else { return nil }
        let recordingSID = "RE" + RandomIdentifier.hex(32)
        let seconds = max(1, Int((call.endedAt ?? Date()).timeIntervalSince(answeredAt).rounded()))
        let parameters: [(String, String)] = [
            ("AccountSid", call.accountID), ("CallSid", call.key.id), ("RecordingSid", recordingSID),
            (
                "RecordingUrl",
                "https://api.twilio.com/\(Self.apiVersion)/Accounts/\(call.accountID)/Recordings/\(recordingSID)"
            ),
            ("RecordingStatus", "completed"), ("RecordingDuration", String(seconds)), ("RecordingChannels", "1"),
            ("RecordingSource", "OutboundAPI"), ("RecordingStartTime", Timestamp.rfc2822(answeredAt)),
        ]
        return Self.signedRequest(
            url: callback, method: details.recordingStatusCallbackMethod, parameters: parameters,
            authToken: account.authToken)
    }

    /// A request as Twilio sends its webhooks: form-encoded (in the query for GET) and signed with `X-Twilio-Signature`.
    static func signedRequest(url: String, method: String, parameters: [(String, String)], authToken: String)
        -> PreparedWebhook
    {
        var headers: [(String, String)] = [("User-Agent", "TwilioProxy/1.1"), ("Accept", "*/*")]
        if method == "GET" {
            let fullURL = url + (url.contains("?") ? "&" : "?") + FormEncoding.encode(parameters)
            headers.append(
                ("X-Twilio-Signature", WebhookSignatures.twilio(authToken: authToken, url: fullURL, parameters: [])))
            return PreparedWebhook(provider: .twilio, url: fullURL, method: "GET", headers: headers, body: [])
        }
        headers += [
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("X-Twilio-Signature", WebhookSignatures.twilio(authToken: authToken, url: url, parameters: parameters)),
        ]
        return PreparedWebhook(
            provider: .twilio, url: url, method: "POST", headers: headers, body: Array(FormEncoding.encode(parameters).utf8))
    }

    private static func sipResponseCode(_ end: CallEnd) -> String {
        switch end {
        case .completed, .hungUpByCaller: return "200"
        case .canceled: return "487"
        case .busy: return "486"
        case .noAnswer: return "480"
        case .failed: return "500"
        }
    }
}
