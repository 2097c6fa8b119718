import Foundation

/// Twilio conferences: joined through `<Dial><Conference>`, read and changed through the REST API, reported to the
/// status callback the first participant's TwiML named.
extension TwilioAPI {
    /// Why a Twilio conference ended, as `ReasonConferenceEnded` spells it.
    enum EndReason: String {
        case viaAPI = "conference-ended-via-api"
        case lastParticipantLeft = "last-participant-left"
        case endConferenceOnExitLeft = "participant-with-end-conference-on-exit-left"
    }

    // MARK: - REST

    /// Answers `Conferences…` routes; nil for other paths.
    func handleConferences(
        _ request: IncomingRequest, rest: [String], account: SimulatorAccounts.Twilio, path: String
    ) -> OutgoingResponse? {
        guard rest.first == "Conferences" || rest == ["Conferences.json"] else { return nil }
        let method = request.method
        if rest == ["Conferences.json"] {
            guard method == "GET" else { return Self.methodNotAllowed() }
            return listConferences(request, account: account)
        }
        guard rest.count >= 2 else { return Self.notFound(path) }
        if rest.count == 2, rest[1].hasSuffix(".json") {
            let sid = String(rest[1].dropLast(5))
            guard let conference = ownedConference(sid, account: account) else { return Self.notFound(path) }
            switch method {
            case "GET": return .json(200, conferenceResource(conference))
            case "POST": return updateConference(request, conference: conference, path: path)
            default: return Self.methodNotAllowed()
            }
        }
        let sid = rest[1]
        if rest.count == 3, rest[2] == "Participants.json" {
            guard method == "GET" else { return Self.methodNotAllowed() }
            guard let conference = ownedConference(sid, account: account) else { return Self.notFound(path) }
            return listParticipants(conference)
        }
        if rest.count == 4, rest[2] == "Participants", rest[3].hasSuffix(".json") {
            let callSID = String(rest[3].dropLast(5))
            // Only current participants of a conference that has not completed exist as resources.
            guard let conference = ownedConference(sid, account: account), conference.status != .completed,
                let index = conference.presentIndex(of: CallKey(provider: .twilio, id: callSID))
            else { return Self.notFound(path) }
            switch method {
            case "GET": return .json(200, participantResource(conference.participants[index], in: conference))
            case "POST": return updateParticipant(request, conference: conference, callSID: callSID, path: path)
            default: return Self.methodNotAllowed()
            }
        }
        return Self.notFound(path)
    }

    /// The account's Twilio conference with this SID.
    private func ownedConference(_ sid: String, account: SimulatorAccounts.Twilio) -> SimulatedConference? {
        store.read { world in
            guard let conference = world.conferences[sid], conference.provider == .twilio,
                conference.accountID == account.accountSID
            else { return nil }
            return conference
        }
    }

    /// `GET Conferences.json`, newest first, filtered by `FriendlyName` and `Status`.
    private func listConferences(_ request: IncomingRequest, account: SimulatorAccounts.Twilio) -> OutgoingResponse {
        let query = request.queryParameters
        let name = query.first { $0.0 == "FriendlyName" }?.1
        let status = query.first { $0.0 == "Status" }?.1
        let conferences = store.read { world in
            world.conferenceOrder.reversed().compactMap { world.conferences[$0] }.filter {
                $0.provider == .twilio && $0.accountID == account.accountSID
            }
        }
        .filter { name == nil || $0.name == name }
        .filter { status == nil || Self.conferenceStatus($0) == status }
        let uri = "/\(Self.apiVersion)/Accounts/\(account.accountSID)/Conferences.json?PageSize=50&Page=0"
        return .json(
            200,
            [
                "conferences": .array(conferences.map(conferenceResource)), "end": .int(max(conferences.count - 1, 0)),
                "first_page_uri": .string(uri), "next_page_uri": nil, "page": 0, "page_size": 50,
                "previous_page_uri": nil, "start": 0, "uri": .string(uri),
            ])
    }

    /// `POST Conferences/{CF}.json`: `Status=completed` ends the conference; other statuses are refused.
    private func updateConference(
        _ request: IncomingRequest, conference: SimulatedConference, path: String
    ) -> OutgoingResponse {
        let parameters = request.formParameters
        switch parameters.first(where: { $0.0 == "Status" })?.1 {
        case nil:
            // AnnounceUrl and the like are accepted; they change nothing the simulator models.
            return .json(200, conferenceResource(conference))
        case "completed"?:
            let ended = store.transact(render: conferenceWebhooks) { world, effects -> SimulatedConference? in
                guard var current = world.conferences[conference.id] else { return nil }
                if current.status != .completed {
                    Self.complete(&current, reason: .viaAPI, endingCall: nil, world: &world, effects: &effects)
                    world.conferences[current.id] = current
                }
                return current
            }
            return .json(200, conferenceResource(ended ?? conference))
        case let other?:
            return Self.invalidParameter("Status must be completed, not \(other)")
        }
    }

    /// `GET Participants.json`: the current participants (none once the conference completed).
    private func listParticipants(_ conference: SimulatedConference) -> OutgoingResponse {
        let participants = conference.status == .completed ? [] : conference.present
        let uri =
            "/\(Self.apiVersion)/Accounts/\(conference.accountID)/Conferences/\(conference.id)/Participants.json?PageSize=50&Page=0"
        return .json(
            200,
            [
                "participants": .array(participants.map { participantResource($0, in: conference) }),
                "end": .int(max(participants.count - 1, 0)), "first_page_uri": .string(uri), "next_page_uri": nil,
                "page": 0, "page_size": 50, "previous_page_uri": nil, "start": 0, "uri": .string(uri),
            ])
    }

    /// `POST Participants/{CA}.json`: `Muted` and `Hold` (true or false), then the matching status callbacks.
    private func updateParticipant(
        _ request: IncomingRequest, conference: SimulatedConference, callSID: String, path: String
    ) -> OutgoingResponse {
        let parameters = request.formParameters
        func flag(_ name: String) -> Result<Bool?, OutgoingResponse> {
            guard let text = parameters.first(where: { $0.0 == name })?.1 else { return .success(nil) }
            switch text.lowercased() {
            case "true": return .success(true)
            case "false": return .success(false)
            default: return .failure(Self.invalidParameter("\(name) must be true or false, not \(text)"))
            }
        }
        let muted: Bool?
        let hold: Bool?
        switch (flag("Muted"), flag("Hold")) {
        case (.success(let m), .success(let h)): (muted, hold) = (m, h)
        case (.failure(let response), _), (_, .failure(let response)): return response
        }
        for name in ["HoldUrl", "AnnounceUrl", "WaitUrl"] {
            if let url = parameters.first(where: { $0.0 == name })?.1, !url.isEmpty, !isAbsoluteHTTPURL(url) {
                return Self.error(400, code: 21205, message: "\(name) is not a valid URL: \(url)")
            }
        }
        for name in ["HoldMethod", "AnnounceMethod", "WaitMethod"] {
            if let method = parameters.first(where: { $0.0 == name })?.1, !["GET", "POST"].contains(method.uppercased()) {
                return Self.invalidParameter("\(name) must be GET or POST")
            }
        }
        let key = CallKey(provider: .twilio, id: callSID)
        let updated = store.transact(render: conferenceWebhooks) {
            world, effects -> (SimulatedConference, ConferenceParticipant)? in
            guard var current = world.conferences[conference.id], current.status != .completed,
                let index = current.presentIndex(of: key)
            else { return nil }
            let now = Date()
            var participant = current.participants[index]
            var changes: [ConferenceEvent.Kind] = []
            if let muted, muted != participant.muted {
                participant.muted = muted
                changes.append(muted ? .muted : .unmuted)
            }
            if let hold, hold != participant.onHold {
                participant.onHold = hold
                changes.append(hold ? .held : .unheld)
            }
            if !changes.isEmpty {
                participant.updatedAt = now
                current.updatedAt = now
                current.participants[index] = participant
                for change in changes {
                    Self.emit(change, in: &current, participant: participant, at: now, effects: &effects)
                }
                world.conferences[current.id] = current
            }
            return (current, participant)
        }
        guard let (current, participant) = updated else { return Self.notFound(path) }
        return .json(200, participantResource(participant, in: current))
    }

    /// Twilio's conference status: init, in-progress, completed.
    static func conferenceStatus(_ conference: SimulatedConference) -> String {
        switch conference.status {
        case .initializing: return "init"
        case .inProgress: return "in-progress"
        case .completed: return "completed"
        }
    }

    /// The Conference resource as Twilio returns it.
    private func conferenceResource(_ conference: SimulatedConference) -> JSONValue {
        let uri = "/\(Self.apiVersion)/Accounts/\(conference.accountID)/Conferences/\(conference.id)"
        return [
            "account_sid": .string(conference.accountID), "api_version": .string(Self.apiVersion),
            "call_sid_ending_conference": .optional(conference.endedByCall?.id),
            "date_created": .string(Timestamp.rfc2822(conference.createdAt)),
            "date_updated": .string(Timestamp.rfc2822(conference.updatedAt)),
            "friendly_name": .string(conference.name), "reason_conference_ended": .optional(conference.endReason),
            "region": "us1", "sid": .string(conference.id), "status": .string(Self.conferenceStatus(conference)),
            "subresource_uris": [
                "participants": .string(uri + "/Participants.json"), "recordings": .string(uri + "/Recordings.json"),
            ],
            "uri": .string(uri + ".json"),
        ]
    }

    /// The Participant resource as Twilio returns it.
    private func participantResource(_ participant: ConferenceParticipant, in conference: SimulatedConference) -> JSONValue {
        let conferenceURI = "/\(Self.apiVersion)/Accounts/\(conference.accountID)/Conferences/\(conference.id)"
        let uri = conferenceURI + "/Participants/\(participant.callKey.id).json"
        return [
            "account_sid": .string(conference.accountID), "call_sid": .string(participant.callKey.id),
            "call_sid_to_coach": nil, "coaching": false, "conference_sid": .string(conference.id),
            "date_created": .string(Timestamp.rfc2822(participant.joinedAt)),
            "date_updated": .string(Timestamp.rfc2822(participant.updatedAt)),
            "end_conference_on_exit": .bool(participant.endConferenceOnExit), "hold": .bool(participant.onHold),
            // twilio-oai `api.v2010.account.conference.participant`: `queue_time` is filled only in a create answer.
            "label": nil, "muted": .bool(participant.muted), "queue_time": nil,
            "start_conference_on_enter": .bool(participant.startConferenceOnEnter), "status": "connected",
            "uri": .string(uri),
        ]
    }

    // MARK: - Conference life

    /// Joins an answered call to the named conference of its account, creating the conference if needed.
    static func join(
        _ key: CallKey, conference spec: TwiMLConference, world: inout SimulatorWorld, effects: inout WorldEffects
    ) {
        guard let call = world.calls[key], call.phase == .answered, world.conferenceMembership(of: key) == nil else {
            return
        }
        let now = Date()
        let existing = world.conferenceOrder.last { id in
            guard let conference = world.conferences[id] else { return false }
            return conference.provider == .twilio && conference.accountID == call.accountID
                && conference.name == spec.name && conference.status != .completed
        }
        var conference =
            existing.flatMap { world.conferences[$0] }
            ?? SimulatedConference(
                provider: .twilio, id: "CF" + RandomIdentifier.hex(32), accountID: call.accountID, name: spec.name,
                status: .initializing, createdAt: now, updatedAt: now)
        if existing == nil { world.insert(conference) }
        if conference.statusCallback == nil, let callback = spec.statusCallback {
            conference.statusCallback = callback
            conference.statusCallbackMethod = spec.statusCallbackMethod
            conference.statusCallbackEvents = spec.statusCallbackEvents
        }
        if spec.record, !conference.recordFromStart {
            conference.recordFromStart = true
            conference.recordingStatusCallback = spec.recordingStatusCallback
            conference.recordingStatusCallbackMethod = spec.recordingStatusCallbackMethod
        }
        let participant = ConferenceParticipant(
            callKey: key, id: key.id, muted: spec.muted, onHold: false, startConferenceOnEnter: spec.startConferenceOnEnter,
            endConferenceOnExit: spec.endConferenceOnExit, joinedAt: now, updatedAt: now)
        conference.participants.append(participant)
        conference.updatedAt = now
        emit(.joined, in: &conference, participant: participant, at: now, effects: &effects)
        // Twilio's <Conference> documentation: "Conferences will not start until at least two participants join",
        // and one of those present must have startConferenceOnEnter=true; a lone participant waits (hold music).
        if conference.status == .initializing && conference.present.count >= 2
            && conference.present.contains(where: \.startConferenceOnEnter)
        {
            conference.status = .inProgress
            if conference.recordFromStart { conference.recordingStartedAt = now }
            emit(.started, in: &conference, participant: nil, at: now, effects: &effects)
        }
        world.conferences[conference.id] = conference
    }

    /// Takes a call out of its conference, ending the conference when it was the last or its ender.
    static func leave(_ key: CallKey, world: inout SimulatorWorld, effects: inout WorldEffects) {
        guard let (id, index) = world.conferenceMembership(of: key), var conference = world.conferences[id],
            conference.provider == .twilio
        else { return }
        let now = Date()
        conference.participants[index].leftAt = now
        conference.participants[index].updatedAt = now
        conference.updatedAt = now
        let participant = conference.participants[index]
        emit(.left, in: &conference, participant: participant, at: now, effects: &effects)
        if participant.endConferenceOnExit {
            complete(&conference, reason: .endConferenceOnExitLeft, endingCall: key, world: &world, effects: &effects)
        } else if conference.present.isEmpty {
            complete(&conference, reason: .lastParticipantLeft, endingCall: key, world: &world, effects: &effects)
        }
        world.conferences[id] = conference
    }

    /// Ends a conference: everyone still in it leaves and, their `<Dial>` having nothing after it, their calls end.
    static func complete(
        _ conference: inout SimulatedConference, reason: EndReason, endingCall: CallKey?, world: inout SimulatorWorld,
        effects: inout WorldEffects
    ) {
        let now = Date()
        for index in conference.participants.indices where conference.participants[index].isPresent {
            conference.participants[index].leftAt = now
            conference.participants[index].updatedAt = now
            let participant = conference.participants[index]
            emit(.left, in: &conference, participant: participant, at: now, effects: &effects)
            if var call = world.calls[participant.callKey], call.finish(.completed, at: now) != nil {
                world.calls[participant.callKey] = call
                effects.endedCalls.append(participant.callKey)
            }
        }
        conference.status = .completed
        conference.endedAt = now
        conference.updatedAt = now
        conference.endReason = reason.rawValue
        conference.endedByCall = endingCall
        emit(.ended, in: &conference, participant: nil, at: now, effects: &effects)
    }

    /// Records an event for the conference's status callback when its events ask for it, numbering it.
    static func emit(
        _ kind: ConferenceEvent.Kind, in conference: inout SimulatedConference, participant: ConferenceParticipant?,
        at date: Date, effects: inout WorldEffects
    ) {
        let subscription: String?
        switch kind {
        case .started: subscription = "start"
        case .ended: subscription = "end"
        case .joined: subscription = "join"
        case .left: subscription = "leave"
        case .muted, .unmuted: subscription = "mute"
        case .held, .unheld: subscription = "hold"
        case .created: subscription = nil
        }
        guard conference.statusCallback != nil, let subscription, conference.statusCallbackEvents.contains(subscription)
        else { return }
        conference.sequenceNumber += 1
        effects.events.append(
            ConferenceEvent(
                kind: kind, conference: conference, participant: participant, call: nil,
                sequenceNumber: conference.sequenceNumber, occurredAt: date))
    }

    /// The signed status callback for a conference event.
    func conferenceWebhooks(_ event: ConferenceEvent, world: SimulatorWorld) -> [PreparedWebhook] {
        let conference = event.conference
        guard conference.provider == .twilio, let callback = conference.statusCallback,
            let account = accounts.first(where: { $0.accountSID == conference.accountID })
        else { return [] }
        let name: String
        switch event.kind {
        case .started: name = "conference-start"
        case .ended: name = "conference-end"
        case .joined: name = "participant-join"
        case .left: name = "participant-leave"
        case .muted: name = "participant-mute"
        case .unmuted: name = "participant-unmute"
        case .held: name = "participant-hold"
        case .unheld: name = "participant-unhold"
        case .created: return []
        }
        var parameters: [(String, String)] = [
            ("AccountSid", conference.accountID), ("ConferenceSid", conference.id),
            ("FriendlyName", conference.name), ("StatusCallbackEvent", name),
            ("Timestamp", Timestamp.rfc2822(event.occurredAt)), ("SequenceNumber", String(event.sequenceNumber)),
        ]
        if let participant = event.participant {
            parameters += [
                ("CallSid", participant.callKey.id), ("Muted", String(participant.muted)),
                ("Hold", String(participant.onHold)), ("Coaching", "false"),
                ("EndConferenceOnExit", String(participant.endConferenceOnExit)),
                ("StartConferenceOnEnter", String(participant.startConferenceOnEnter)),
            ]
        }
        if event.kind == .ended {
            if let reason = conference.endReason { parameters.append(("ReasonConferenceEnded", reason)) }
            if let ender = conference.endedByCall { parameters.append(("CallSidEndingConference", ender.id)) }
        }
        var webhooks = [
            Self.signedRequest(
                url: callback, method: conference.statusCallbackMethod, parameters: parameters,
                authToken: account.authToken)
        ]
        // A conference recorded from its start reports its recording (conference recordings name the
        // conference, not a call) once it has ended.
        if event.kind == .ended, let started = conference.recordingStartedAt, let url = conference.recordingStatusCallback {
            let recordingSID = "RE" + RandomIdentifier.hex(32)
            let seconds = max(0, Int((conference.endedAt ?? event.occurredAt).timeIntervalSince(started).rounded()))
            webhooks.append(
                Self.signedRequest(
                    url: url, method: conference.recordingStatusCallbackMethod,
                    parameters: [
                        ("AccountSid", conference.accountID), ("ConferenceSid", conference.id),
                        ("RecordingSid", recordingSID),
                        ("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/\(conference.accountID)/Recordings/\(recordingSID)"),
                        ("RecordingStatus", "completed"), ("RecordingDuration", String(seconds)),
                        ("RecordingChannels", "1"), ("RecordingSource", "DialConference"),
                        ("RecordingStartTime", Timestamp.rfc2822(started)),
                    ],
                    authToken: account.authToken))
        }
        return webhooks
    }

    /// Takes an ended (or ending) call out of its conference now.
    func leaveConference(_ key: CallKey) {
        store.transact(render: conferenceWebhooks) { world, effects in
            Self.leave(key, world: &world, effects: &effects)
        }
    }

    /// A call that ended leaves its conference.
    func callEnded(_ call: SimulatedCall) async {
        leaveConference(call.key)
    }

    // MARK: - TwiML

    /// Fetches (or takes) the call's TwiML and executes it.
    func callAnswered(_ call: SimulatedCall, deliverer: WebhookDeliverer) async {
        guard case .twilio(let details) = call.details, let instructions = details.instructions,
            let account = accounts.first(where: { $0.accountSID == call.accountID })
        else { return }
        // What to fetch: the call's Url, its application's voice URL, or the browser client's TwiML app.
        let request: (url: String, method: String, parameters: [(String, String)])
        switch instructions {
        case .twiml(let text):
            execute(Array(text.utf8), baseURL: nil, call: call)
            return
        case .url(let url, let method):
            request = (url, method, voiceParameters(call))
        case .application(let sid):
            let voice = store.read { world in
                world.twilioApplications[sid].flatMap { app in
                    app.accountSID == call.accountID ? app.voiceURL.map { ($0, app.voiceMethod) } : nil
                }
            }
            // Without a voice URL there is nothing to fetch; the call goes on as it is.
            guard let (url, method) = voice else { return }
            var parameters = voiceParameters(call)
            parameters.insert(("ApplicationSid", sid), at: 2)
            request = (url, method, parameters)
        case .clientApplication(let url, let method, let parameters):
            request = (url, method, parameters)
        }
        guard
            let document = await fetchTwiML(
                call, url: request.url, method: request.method, parameters: request.parameters, account: account,
                deliverer: deliverer)
        else { return }
        execute(document, baseURL: request.url, call: call)
    }

    /// Twilio's voice request parameters for an answered outbound-api call.
    private func voiceParameters(_ call: SimulatedCall) -> [(String, String)] {
        [
            ("AccountSid", call.accountID), ("ApiVersion", Self.apiVersion), ("CallSid", call.key.id),
            ("CallStatus", "in-progress"), ("Direction", "outbound-api"), ("From", call.from), ("To", call.to),
            ("Called", call.to), ("Caller", call.from),
        ]
    }

    /// Fetches TwiML and records the attempt; nil (after hanging the call up, unless the URL was refused for leaving
    /// the machine) when no document came back.
    private func fetchTwiML(
        _ call: SimulatedCall, url: String, method: String, parameters: [(String, String)],
        account: SimulatorAccounts.Twilio, deliverer: WebhookDeliverer
    ) async -> [UInt8]? {
        let request = Self.signedRequest(url: url, method: method, parameters: parameters, authToken: account.authToken)
        let fetched = await deliverer.fetch(request)
        var headers: [String: String] = [:]
        for (name, value) in request.headers { headers[name.lowercased()] = value }
        store.record(
            TwiMLFetch(
                callSID: call.key.id, url: request.url, method: request.method, parameters: parameters,
                headers: headers, responseStatus: fetched.status, responseBody: String(decoding: fetched.body, as: UTF8.self),
                failure: fetched.failure, fetchedAt: Date()))
        // The simulator never leaves the machine, so it cannot know what that TwiML would say: the call goes on.
        if fetched.refused { return nil }
        guard let status = fetched.status, (200..<300).contains(status) else {
            // Twilio plays "an application error has occurred" and hangs up.
            hangUpAfterApplicationError(call.key)
            return nil
        }
        return fetched.body
    }

    /// Executes a TwiML document for a call that is still answered.
    private func execute(_ document: [UInt8], baseURL: String?, call: SimulatedCall) {
        switch TwiML.interpret(document, baseURL: baseURL) {
        case .failure:
            hangUpAfterApplicationError(call.key)
        case .success(.hangUp):
            _ = store.hangUp(call.key)
            leaveConference(call.key)
        case .success(.joinConference(let spec)):
            store.transact(render: conferenceWebhooks) { world, effects in
                Self.join(call.key, conference: spec, world: &world, effects: &effects)
            }
        case .success(.unsupported):
            break
        }
    }

    /// Ends a call whose TwiML could not be had or executed, as Twilio does after its application error.
    private func hangUpAfterApplicationError(_ key: CallKey) {
        _ = store.hangUp(key)
        leaveConference(key)
    }

    // MARK: - Applications

    /// The account's application with this SID, as last updated.
    private func ownedApplication(_ sid: String, account: SimulatorAccounts.Twilio) -> TwilioApplicationState? {
        store.read { world in
            world.twilioApplications[sid].flatMap { $0.accountSID == account.accountSID ? $0 : nil }
        }
    }

    /// `GET Applications/{AP}.json`.
    func application(_ sid: String, account: SimulatorAccounts.Twilio, path: String) -> OutgoingResponse {
        guard let application = ownedApplication(sid, account: account) else { return Self.notFound(path) }
        return .json(200, applicationResource(application))
    }

    /// `POST Applications/{AP}.json`: changes VoiceUrl, VoiceMethod and FriendlyName.
    func updateApplication(
        _ request: IncomingRequest, sid: String, account: SimulatorAccounts.Twilio, path: String
    ) -> OutgoingResponse {
        guard ownedApplication(sid, account: account) != nil else { return Self.notFound(path) }
        let parameters = request.formParameters
        func value(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }
        if let url = value("VoiceUrl"), !url.isEmpty, !isAbsoluteHTTPURL(url) {
            return Self.error(400, code: 21502, message: "VoiceUrl is not a valid URL: \(url)")
        }
        if let method = value("VoiceMethod"), !["GET", "POST"].contains(method.uppercased()) {
            return Self.invalidParameter("VoiceMethod must be GET or POST")
        }
        let updated = store.transact { world, _ -> TwilioApplicationState? in
            guard var application = world.twilioApplications[sid] else { return nil }
            if let url = value("VoiceUrl") { application.voiceURL = url.isEmpty ? nil : url }
            if let method = value("VoiceMethod") { application.voiceMethod = method.uppercased() }
            if let name = value("FriendlyName") { application.friendlyName = name }
            application.updatedAt = Date()
            world.twilioApplications[sid] = application
            return application
        }
        guard let updated else { return Self.notFound(path) }
        return .json(200, applicationResource(updated))
    }

    /// The Application resource as Twilio returns it.
    private func applicationResource(_ application: TwilioApplicationState) -> JSONValue {
        [
            "account_sid": .string(application.accountSID), "api_version": .string(Self.apiVersion),
            "date_created": .string(Timestamp.rfc2822(application.createdAt)),
            "date_updated": .string(Timestamp.rfc2822(application.updatedAt)),
            "friendly_name": .string(application.friendlyName), "message_status_callback": nil,
            "public_application_connect_enabled": false, "sid": .string(application.sid),
            "sms_fallback_method": "POST", "sms_fallback_url": nil, "sms_method": "POST", "sms_status_callback": nil,
            "sms_url": nil, "status_callback": nil, "status_callback_method": "POST",
            "uri": .string("/\(Self.apiVersion)/Accounts/\(application.accountSID)/Applications/\(application.sid).json"),
            "voice_caller_id_lookup": false, "voice_fallback_method": "POST", "voice_fallback_url": nil,
            "voice_method": .string(application.voiceMethod), "voice_url": .optional(application.voiceURL),
        ]
    }
}
