import Foundation

/// Telnyx Call Control conferences: created around an answered leg, joined, muted, held, left and ended through the
/// API, and reported to the webhook URL of the leg each event is about.
extension TelnyxAPI {
    private static let regions: Set<String> = ["Australia", "Europe", "Middle East", "US"]

    /// Why a Telnyx conference ended, as `conference.ended` and `end_reason` spell it.
    enum EndReason: String {
        case allLeft = "all_left"
        case hostLeft = "host_left"
        /// `actions/end`: the published `reason` values (telnyx-python `types/conference_ended.py`) are
        /// all_left, host_left and time_exceeded, none for the API; ending hangs every participant
        /// up, so all of them left.
        static let endedViaAPI = EndReason.allLeft
    }

    /// Answers `/v2/conferences…`; `rest` follows `conferences`.
    func handleConferences(
        _ request: IncomingRequest, rest: [String], account: SimulatorAccounts.Telnyx
    ) -> OutgoingResponse {
        switch (request.method, rest.count) {
        case ("POST", 0):
            return createConference(request, account: account)
        case ("GET", 0):
            return listConferences(request, account: account)
        case ("GET", 1):
            guard let conference = ownedConference(rest[0], account: account) else { return Self.notFound() }
            return .json(200, ["data": conferenceObject(conference)])
        case ("GET", 2) where rest[1] == "participants":
            guard let conference = ownedConference(rest[0], account: account) else { return Self.notFound() }
            let items = conference.participants.map { participantObject($0, in: conference) }
            return .json(200, ["data": .array(items), "meta": Self.meta(count: items.count)])
        case ("POST", 3) where rest[1] == "actions":
            guard let conference = ownedConference(rest[0], account: account) else { return Self.notFound() }
            return conferenceAction(rest[2], conference: conference, request: request, account: account)
        default:
            return Self.notFound()
        }
    }

    /// Telnyx's pagination block for a single page of `count` items.
    static func meta(count: Int) -> JSONValue {
        ["page_number": 1, "page_size": 20, "total_pages": 1, "total_results": .int(count)]
    }

    /// The account's Telnyx conference with this id.
    private func ownedConference(_ id: String, account: SimulatorAccounts.Telnyx) -> SimulatedConference? {
        store.read { world in
            guard let conference = world.conferences[id], conference.provider == .telnyx,
                conference.accountID == account.apiKey
            else { return nil }
            return conference
        }
    }

    /// The JSON object body of a command; nil when it is not one.
    private static func body(_ request: IncomingRequest) -> [String: JSONValue]? {
        // An empty body counts as an empty object, as Telnyx takes commands without parameters.
        if request.body.isEmpty { return [:] }
        return request.json?.objectValue
    }

    /// A body that is not a JSON object.
    private static func badRequest() -> OutgoingResponse {
        error(
            400, code: "10015", title: "Bad Request",
            detail: "The request failed because it was not well-formed: send a JSON object as application/json.")
    }

    /// A command that needs an answered leg, given one still ringing.
    private static func notAnswered() -> OutgoingResponse {
        error(
            422, code: "90034", title: "Call not answered",
            detail: "The call has not been answered yet; answer it before this command.", pointer: "/call_control_id")
    }

    /// A command for a conference that has completed.
    private static func conferenceEnded() -> OutgoingResponse {
        error(
            422, code: "10015", title: "Conference has ended",
            detail: "This conference has already ended and can't receive commands.")
    }

    /// An id that is not a current participant.
    private static func notParticipant(_ id: String, pointer: String) -> OutgoingResponse {
        error(
            422, code: "10015", title: "Invalid value for parameter",
            detail: "\(id) is not a participant of this conference.", pointer: pointer)
    }

    /// A leg may be commanded into a conference when it is this account's, answered and alive.
    private static func checkLeg(_ call: SimulatedCall?, account: SimulatorAccounts.Telnyx) -> OutgoingResponse? {
        guard let call, call.accountID == account.apiKey else { return invalidCallControlID() }
        if call.hasEnded { return callEnded() }
        if call.phase != .answered { return notAnswered() }
        return nil
    }

    /// An optional boolean field; a refusal when it is something else.
    private static func boolean(_ fields: [String: JSONValue], _ name: String) -> Result<Bool?, OutgoingResponse> {
        guard let value = fields[name], !value.isNull else { return .success(nil) }
        guard let flag = value.boolValue else { return .failure(invalid(name, "\(name) must be true or false.")) }
        return .success(flag)
    }

    // MARK: - Create and read

    /// `POST /conferences`: a conference around an answered leg, which joins it first.
    private func createConference(_ request: IncomingRequest, account: SimulatorAccounts.Telnyx) -> OutgoingResponse {
        guard let fields = Self.body(request) else { return Self.badRequest() }
        guard let callControlID = fields["call_control_id"]?.stringValue, !callControlID.isEmpty else {
            return Self.missing("call_control_id")
        }
        guard let name = fields["name"]?.stringValue, !name.isEmpty else { return Self.missing("name") }
        let clientState = fields["client_state"]?.stringValue
        if let clientState, Data(base64Encoded: clientState) == nil {
            return Self.invalid("client_state", "client_state must be a valid Base-64 encoded string.")
        }
        let startOnCreate: Bool
        switch Self.boolean(fields, "start_conference_on_create") {
        case .success(let value): startOnCreate = value ?? true
        case .failure(let response): return response
        }
        if let beep = fields["beep_enabled"], !["always", "never", "on_enter", "on_exit"].contains(beep.stringValue ?? "") {
            return Self.invalid("beep_enabled", "beep_enabled must be always, never, on_enter or on_exit.")
        }
        var duration: Int?
        if let value = fields["duration_minutes"], !value.isNull {
            guard let minutes = value.intValue, minutes > 0 else {
                return Self.invalid("duration_minutes", "duration_minutes must be a positive integer.")
            }
            duration = minutes
        }
        let region = fields["region"]?.stringValue
        if let region, !Self.regions.contains(region) {
            return Self.invalid("region", "region must be Australia, Europe, Middle East or US.")
        }
        let key = CallKey(provider: .telnyx, id: callControlID)
        let created = store.transact(render: conferenceWebhooks) {
            world, effects -> Result<SimulatedConference, OutgoingResponse> in
            if let refusal = Self.checkLeg(world.calls[key], account: account) { return .failure(refusal) }
            guard world.conferenceMembership(of: key) == nil else {
                return .failure(
                    Self.error(
                        422, code: "10015", title: "Call already in a conference",
                        detail: "The call is already a participant of a conference.", pointer: "/call_control_id"))
            }
            guard var call = world.calls[key], case .telnyx(var details) = call.details else {
                return .failure(Self.invalidCallControlID())
            }
            if let clientState {
                details.clientState = clientState
                call.details = .telnyx(details)
                world.calls[key] = call
            }
            let now = Date()
            var conference = SimulatedConference(
                provider: .telnyx, id: RandomIdentifier.uuid(), accountID: account.apiKey, name: name,
                status: startOnCreate ? .inProgress : .initializing, createdAt: now, updatedAt: now)
            conference.creator = key
            conference.connectionID = details.connectionID
            conference.region = region ?? "US"
            conference.expiresAt = now.addingTimeInterval(TimeInterval((duration ?? 1440) * 60))
            let participant = ConferenceParticipant(
                callKey: key, id: RandomIdentifier.uuid(), muted: false, onHold: false, startConferenceOnEnter: true,
                endConferenceOnExit: false, joinedAt: now, updatedAt: now)
            conference.participants = [participant]
            world.insert(conference)
            effects.events.append(ConferenceEvent(kind: .created, conference: conference, call: call, occurredAt: now))
            effects.events.append(
                ConferenceEvent(kind: .joined, conference: conference, participant: participant, call: call, occurredAt: now))
            return .success(conference)
        }
        switch created {
        case .success(let conference): return .json(200, ["data": conferenceObject(conference)])
        case .failure(let response): return response
        }
    }

    /// `GET /conferences`, newest first, filtered by `filter[name]` and `filter[status]`.
    private func listConferences(_ request: IncomingRequest, account: SimulatorAccounts.Telnyx) -> OutgoingResponse {
        let query = request.queryParameters
        let name = query.first { $0.0 == "filter[name]" }?.1
        let status = query.first { $0.0 == "filter[status]" }?.1
        let conferences = store.read { world in
            world.conferenceOrder.reversed().compactMap { world.conferences[$0] }.filter {
                $0.provider == .telnyx && $0.accountID == account.apiKey
            }
        }
        .filter { name == nil || $0.name == name }
        .filter { status == nil || Self.status($0) == status }
        return .json(200, ["data": .array(conferences.map(conferenceObject)), "meta": Self.meta(count: conferences.count)])
    }

    /// Telnyx's conference status: init, in_progress, completed.
    static func status(_ conference: SimulatedConference) -> String {
        switch conference.status {
        case .initializing: return "init"
        case .inProgress: return "in_progress"
        case .completed: return "completed"
        }
    }

    /// The conference object as Telnyx returns it.
    private func conferenceObject(_ conference: SimulatedConference) -> JSONValue {
        var object: [String: JSONValue] = [
            "record_type": "conference", "id": .string(conference.id), "name": .string(conference.name),
            "status": .string(Self.status(conference)), "created_at": .string(Timestamp.iso8601(conference.createdAt)),
            "updated_at": .string(Timestamp.iso8601(conference.updatedAt)),
            "expires_at": .string(Timestamp.iso8601(conference.expiresAt ?? conference.createdAt)),
            "connection_id": .optional(conference.connectionID), "region": .optional(conference.region),
            "end_reason": .optional(conference.endReason), "ended_by": nil,
        ]
        if let ender = conference.endedByCall {
            let session = store.read { world -> String? in
                guard case .telnyx(let details)? = world.calls[ender]?.details else { return nil }
                return details.callSessionID
            }
            object["ended_by"] = ["call_control_id": .string(ender.id), "call_session_id": .optional(session)]
        }
        return .object(object)
    }

    /// The participant object as Telnyx returns it.
    private func participantObject(_ participant: ConferenceParticipant, in conference: SimulatedConference) -> JSONValue {
        let legID = store.read { world -> String? in
            guard case .telnyx(let details)? = world.calls[participant.callKey]?.details else { return nil }
            return details.callLegID
        }
        return [
            "record_type": "participant", "id": .string(participant.id),
            "call_control_id": .string(participant.callKey.id), "call_leg_id": .optional(legID),
            "conference": ["id": .string(conference.id), "name": .string(conference.name)],
            "muted": .bool(participant.muted), "on_hold": .bool(participant.onHold),
            "status": participant.isPresent ? "joined" : "left",
            "end_conference_on_exit": .bool(participant.endConferenceOnExit), "soft_end_conference_on_exit": false,
            "whisper_call_control_ids": [], "created_at": .string(Timestamp.iso8601(participant.joinedAt)),
            "updated_at": .string(Timestamp.iso8601(participant.updatedAt)),
        ]
    }

    // MARK: - Actions

    /// `POST /conferences/{id}/actions/{name}`: join, mute, unmute, hold, unhold, leave or end.
    private func conferenceAction(
        _ name: String, conference: SimulatedConference, request: IncomingRequest, account: SimulatorAccounts.Telnyx
    ) -> OutgoingResponse {
        guard ["join", "mute", "unmute", "hold", "unhold", "leave", "end"].contains(name) else {
            return Self.notFound()
        }
        guard let fields = Self.body(request) else { return Self.badRequest() }
        let ok = OutgoingResponse.json(200, ["data": ["result": "ok"]])
        switch name {
        case "join":
            return join(conference, fields: fields, account: account) ?? ok
        case "leave":
            guard let id = fields["call_control_id"]?.stringValue, !id.isEmpty else {
                return Self.missing("call_control_id")
            }
            return applyToParticipants(conference, ids: [id], pointer: "/call_control_id") { _, key, world, effects in
                Self.leave(key, world: &world, effects: &effects)
            } ?? ok
        case "end":
            let refusal = store.transact(render: conferenceWebhooks) { world, effects -> OutgoingResponse? in
                guard var current = world.conferences[conference.id] else { return Self.notFound() }
                guard current.status != .completed else { return Self.conferenceEnded() }
                Self.end(&current, reason: .endedViaAPI, endingCall: nil, world: &world, effects: &effects)
                world.conferences[current.id] = current
                return nil
            }
            return refusal ?? ok
        default:
            break
        }
        // mute, unmute, hold, unhold: a list of participants, or (except for unhold) everyone.
        var ids: [String]?
        if let value = fields["call_control_ids"], !value.isNull {
            guard let list = value.arrayValue, let strings = Optional(list.compactMap(\.stringValue)),
                strings.count == list.count
            else { return Self.invalid("call_control_ids", "call_control_ids must be a list of call control ids.") }
            ids = strings.isEmpty ? nil : strings
        }
        if name == "unhold" && ids == nil { return Self.missing("call_control_ids") }
        if name == "hold", let url = fields["audio_url"], !url.isNull, !isAbsoluteHTTPURL(url.stringValue ?? "") {
            return Self.error(
                422, code: "10003", title: "Invalid URL",
                detail: "The URL provided was invalid, malformed, or too long.", pointer: "/audio_url")
        }
        let kind: ConferenceEvent.Kind
        switch name {
        case "mute": kind = .muted
        case "unmute": kind = .unmuted
        case "hold": kind = .held
        default: kind = .unheld
        }
        return applyToParticipants(conference, ids: ids, pointer: "/call_control_ids") { index, _, world, _ in
            guard var current = world.conferences[conference.id] else { return }
            var participant = current.participants[index]
            switch kind {
            case .muted: participant.muted = true
            case .unmuted: participant.muted = false
            case .held: participant.onHold = true
            default: participant.onHold = false
            }
            participant.updatedAt = Date()
            current.participants[index] = participant
            current.updatedAt = participant.updatedAt
            world.conferences[current.id] = current
            // Telnyx documents no webhook for conference mute or hold: the change shows in the participant only.
        } ?? ok
    }

    /// Applies `change` to each named participant (every present one when `ids` is nil), after checking that the
    /// conference is running and every id is a present participant; returns a refusal, or nil when done.
    private func applyToParticipants(
        _ conference: SimulatedConference, ids: [String]?, pointer: String,
        _ change: (Int, CallKey, inout SimulatorWorld, inout WorldEffects) -> Void
    ) -> OutgoingResponse? {
        store.transact(render: conferenceWebhooks) { world, effects -> OutgoingResponse? in
            guard let current = world.conferences[conference.id] else { return Self.notFound() }
            guard current.status != .completed else { return Self.conferenceEnded() }
            let keys = ids.map { $0.map { CallKey(provider: .telnyx, id: $0) } } ?? current.present.map(\.callKey)
            var targets: [(Int, CallKey)] = []
            for key in keys {
                guard let index = current.presentIndex(of: key) else { return Self.notParticipant(key.id, pointer: pointer) }
                targets.append((index, key))
            }
            for (index, key) in targets { change(index, key, &world, &effects) }
            return nil
        }
    }

    /// `actions/join`: adds an answered leg that is in no conference; nil when it joined.
    private func join(
        _ conference: SimulatedConference, fields: [String: JSONValue], account: SimulatorAccounts.Telnyx
    ) -> OutgoingResponse? {
        guard let callControlID = fields["call_control_id"]?.stringValue, !callControlID.isEmpty else {
            return Self.missing("call_control_id")
        }
        let clientState = fields["client_state"]?.stringValue
        if let clientState, Data(base64Encoded: clientState) == nil {
            return Self.invalid("client_state", "client_state must be a valid Base-64 encoded string.")
        }
        var flags: [String: Bool] = [:]
        for name in ["mute", "hold", "start_conference_on_enter", "end_conference_on_exit", "soft_end_conference_on_exit"] {
            switch Self.boolean(fields, name) {
            case .success(let value): flags[name] = value
            case .failure(let response): return response
            }
        }
        if let url = fields["hold_audio_url"], !url.isNull, !isAbsoluteHTTPURL(url.stringValue ?? "") {
            return Self.error(
                422, code: "10003", title: "Invalid URL",
                detail: "The URL provided was invalid, malformed, or too long.", pointer: "/hold_audio_url")
        }
        let key = CallKey(provider: .telnyx, id: callControlID)
        return store.transact(render: conferenceWebhooks) { world, effects -> OutgoingResponse? in
            guard var current = world.conferences[conference.id] else { return Self.notFound() }
            guard current.status != .completed else { return Self.conferenceEnded() }
            if let refusal = Self.checkLeg(world.calls[key], account: account) { return refusal }
            if let membership = world.conferenceMembership(of: key) {
                return Self.error(
                    422, code: "10015", title: "Call already in a conference",
                    detail: membership.id == current.id
                        ? "The call is already a participant of this conference."
                        : "The call is already a participant of another conference.",
                    pointer: "/call_control_id")
            }
            guard var call = world.calls[key], case .telnyx(var details) = call.details else {
                return Self.invalidCallControlID()
            }
            if let clientState {
                details.clientState = clientState
                call.details = .telnyx(details)
                world.calls[key] = call
            }
            let now = Date()
            let participant = ConferenceParticipant(
                callKey: key, id: RandomIdentifier.uuid(), muted: flags["mute"] ?? false,
                onHold: flags["hold"] ?? false, startConferenceOnEnter: flags["start_conference_on_enter"] ?? false,
                endConferenceOnExit: flags["end_conference_on_exit"] ?? false, joinedAt: now, updatedAt: now)
            current.participants.append(participant)
            current.updatedAt = now
            if current.status == .initializing && participant.startConferenceOnEnter {
                current.status = .inProgress
            }
            world.conferences[current.id] = current
            effects.events.append(
                ConferenceEvent(kind: .joined, conference: current, participant: participant, call: call, occurredAt: now))
            return nil
        }
    }

    // MARK: - Conference life

    /// Takes a leg out of its conference; the conference ends when its ender left or nobody is left.
    static func leave(_ key: CallKey, world: inout SimulatorWorld, effects: inout WorldEffects) {
        guard let (id, index) = world.conferenceMembership(of: key), var conference = world.conferences[id],
            conference.provider == .telnyx
        else { return }
        let now = Date()
        conference.participants[index].leftAt = now
        conference.participants[index].updatedAt = now
        conference.updatedAt = now
        let participant = conference.participants[index]
        effects.events.append(
            ConferenceEvent(
                kind: .left, conference: conference, participant: participant, call: world.calls[key], occurredAt: now))
        if participant.endConferenceOnExit {
            end(&conference, reason: .hostLeft, endingCall: key, world: &world, effects: &effects)
        } else if conference.present.isEmpty {
            end(&conference, reason: .allLeft, endingCall: nil, world: &world, effects: &effects)
        }
        world.conferences[id] = conference
    }

    /// Ends a conference: everyone still in it leaves and is hung up ("End a conference and terminate all active
    /// participants"; with `end_conference_on_exit` "all remaining participants [are] hung up", telnyx-python
    /// `resources/conferences/actions.py`), then `conference.ended`; each leg reports its own `call.hangup`.
    static func end(
        _ conference: inout SimulatedConference, reason: EndReason, endingCall: CallKey?, world: inout SimulatorWorld,
        effects: inout WorldEffects
    ) {
        let now = Date()
        for index in conference.participants.indices where conference.participants[index].isPresent {
            conference.participants[index].leftAt = now
            conference.participants[index].updatedAt = now
            let participant = conference.participants[index]
            effects.events.append(
                ConferenceEvent(
                    kind: .left, conference: conference, participant: participant,
                    call: world.calls[participant.callKey], occurredAt: now))
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
        effects.events.append(
            ConferenceEvent(
                kind: .ended, conference: conference, call: conference.creator.flatMap { world.calls[$0] },
                occurredAt: now))
    }

    /// The signed webhook for a conference event, sent to the webhook URL of the leg it is about.
    func conferenceWebhooks(_ event: ConferenceEvent, world: SimulatorWorld) -> [PreparedWebhook] {
        let conference = event.conference
        guard conference.provider == .telnyx, let call = event.call, case .telnyx(let details) = call.details,
            let account = accounts.first(where: { $0.apiKey == conference.accountID }),
            let url = Self.webhookURL(
                details, account: account, credentialConnectionWebhooks: world.credentialConnectionWebhooks)
        else { return [] }
        let eventType: String
        switch event.kind {
        case .created: eventType = "conference.created"
        case .joined: eventType = "conference.participant.joined"
        case .left: eventType = "conference.participant.left"
        case .ended: eventType = "conference.ended"
        case .started, .muted, .unmuted, .held, .unheld: return []
        }
        var payload: [String: JSONValue] = [
            "call_control_id": .string(call.key.id), "call_leg_id": .string(details.callLegID),
            "call_session_id": .string(details.callSessionID), "client_state": .optional(details.clientState),
            "conference_id": .string(conference.id), "connection_id": .string(details.connectionID),
        ]
        // telnyx-python `types/conference_ended.py` puts `occurred_at` (and `reason`) in the payload and none in
        // `data`; the participant and created types keep it in `data`, as call events do.
        let ended = event.kind == .ended
        if ended {
            payload["connection_id"] = .optional(conference.connectionID ?? details.connectionID)
            payload["reason"] = .optional(conference.endReason)
            payload["occurred_at"] = .string(Timestamp.iso8601Microseconds(event.occurredAt))
        }
        return [
            signedEvent(
                eventType, payload: payload, url: url, account: account, occurredAt: event.occurredAt,
                occurredAtInData: !ended)
        ]
    }

    /// Takes a leg that hung up out of its conference now.
    func leaveConference(_ key: CallKey) {
        store.transact(render: conferenceWebhooks) { world, effects in
            Self.leave(key, world: &world, effects: &effects)
        }
    }

    /// A leg that hung up leaves its conference.
    func callEnded(_ call: SimulatedCall) async {
        leaveConference(call.key)
    }
}
