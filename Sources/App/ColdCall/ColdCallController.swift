import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence
import Providers

/// `/api/v1/cold-call`: an agent's browser cold calls through provider conferences, for the key's
/// organization (admin or service key).
struct ColdCallController {
    let service: ColdCallService
    let contacts: ContactStore

    static let outcomes: Set<String> = [
        "connected", "voicemail", "no_answer", "busy", "wrong_number", "not_interested", "callback_requested",
        "meeting_booked", "other",
    ]

    // MARK: - Bodies

    struct InitiateRequest: StrictRequestBody {
        static let fields: Set<String> = ["contact_id", "to_phone", "from_phone", "provider"]
        let contactID: String?
        let toPhone: String?
        let fromPhone: String?
        let provider: String?

        enum CodingKeys: String, CodingKey {
            case contactID = "contact_id"
            case toPhone = "to_phone"
            case fromPhone = "from_phone"
            case provider
        }
    }

    struct JoinRequest: StrictRequestBody {
        static let fields: Set<String> = ["conference_id", "client_id"]
        let conferenceID: String
        let clientID: String

        enum CodingKeys: String, CodingKey {
            case conferenceID = "conference_id"
            case clientID = "client_id"
        }
    }

    struct ControlRequest: StrictRequestBody {
        static let fields: Set<String> = ["conference_id", "participant_id"]
        let conferenceID: String
        let participantID: String

        enum CodingKeys: String, CodingKey {
            case conferenceID = "conference_id"
            case participantID = "participant_id"
        }
    }

    struct EndRequest: StrictRequestBody {
        static let fields: Set<String> = ["conference_id"]
        let conferenceID: String

        enum CodingKeys: String, CodingKey {
            case conferenceID = "conference_id"
        }
    }

    struct OutcomeRequest: StrictRequestBody {
        static let fields: Set<String> = ["outcome", "notes", "callback_at"]
        let outcome: String
        let notes: String?
        let callbackAt: String?

        enum CodingKeys: String, CodingKey {
            case outcome
            case notes
            case callbackAt = "callback_at"
        }
    }

    // MARK: - Responses

    struct InitiateResponse: ResponseEncodable {
        let conferenceID: String
        let callID: String
        let status: String
        let callStatus: String
        let provider: String
        let providerCallID: String?

        enum CodingKeys: String, CodingKey {
            case conferenceID = "conference_id"
            case callID = "call_id"
            case status
            case callStatus = "call_status"
            case provider
            case providerCallID = "provider_call_id"
        }
    }

    struct JoinResponse: ResponseEncodable {
        struct TelnyxCallOptions: Encodable {
            let clientState: String
            enum CodingKeys: String, CodingKey {
                case clientState = "client_state"
            }
        }

        let provider: String
        let conferenceID: String
        let clientID: String
        let expiresAt: Date
        /// Twilio: the Voice SDK Access Token.
        let accessToken: String?
        /// Telnyx: the WebRTC SDK login token.
        let loginToken: String?
        /// Telnyx: what the browser passes to `newCall` so its leg is admitted to the session.
        let callOptions: TelnyxCallOptions?

        enum CodingKeys: String, CodingKey {
            case provider
            case conferenceID = "conference_id"
            case clientID = "client_id"
            case expiresAt = "expires_at"
            case accessToken = "access_token"
            case loginToken = "login_token"
            case callOptions = "call_options"
        }
    }

    struct ParticipantResponse: Encodable {
        let participantID: String
        let role: String
        let clientID: String?
        let muted: Bool
        let onHold: Bool
        let joinedAt: Date?
        let leftAt: Date?

        init(_ participant: ConferenceParticipant) {
            participantID = participant.id.lowercasedString
            role = participant.role
            clientID = participant.clientID
            muted = participant.muted
            onHold = participant.onHold
            joinedAt = participant.joinedAt
            leftAt = participant.leftAt
        }

        enum CodingKeys: String, CodingKey {
            case participantID = "participant_id"
            case role
            case clientID = "client_id"
            case muted
            case onHold = "on_hold"
            case joinedAt = "joined_at"
            case leftAt = "left_at"
        }
    }

    struct StatusResponse: ResponseEncodable {
        let conferenceID: String
        let provider: String
        let status: String
        let durationSeconds: Int?
        let createdAt: Date
        let startedAt: Date?
        let endedAt: Date?
        let endRequestedAt: Date?
        /// Why the session ended before it started: the contact's call status (busy, no-answer, failed,
        /// canceled, completed); nil while it runs and when it ended as a conference.
        let endedReason: String?
        let contactID: String?
        let contactName: String?
        let contactPhone: String
        let callID: String?
        let callStatus: String?
        let agentClientID: String?
        let participants: [ParticipantResponse]

        enum CodingKeys: String, CodingKey {
            case conferenceID = "conference_id"
            case provider
            case status
            case durationSeconds = "duration_seconds"
            case createdAt = "created_at"
            case startedAt = "started_at"
            case endedAt = "ended_at"
            case endRequestedAt = "end_requested_at"
            case endedReason = "ended_reason"
            case contactID = "contact_id"
            case contactName = "contact_name"
            case contactPhone = "contact_phone"
            case callID = "call_id"
            case callStatus = "call_status"
            case agentClientID = "agent_client_id"
            case participants
        }
    }

    struct ControlResponse: ResponseEncodable {
        let conferenceID: String
        let action: String
        /// `requested`: the state follows the provider's webhook; `confirmed`: the provider's answer confirmed it.
        let state: String
        let participant: ParticipantResponse

        enum CodingKeys: String, CodingKey {
            case conferenceID = "conference_id"
            case action
            case state
            case participant
        }
    }

    struct LogEntryResponse: ResponseEncodable {
        let callID: String
        let conferenceID: String
        let provider: String
        let status: String
        let conferenceStatus: String
        let contactID: String?
        let contactName: String?
        let contactPhone: String
        let fromNumber: String
        let agentClientID: String?
        let outcome: String?
        let notes: String?
        let callbackAt: Date?
        let outcomeRecordedAt: Date?
        let durationSeconds: Int?
        let recordingURL: String?
        let recordingDurationSeconds: Int?
        let createdAt: Date
        let answeredAt: Date?
        let endedAt: Date?

        init(_ entry: ColdCallLogEntry) {
            callID = entry.call.id.lowercasedString
            conferenceID = entry.conferenceID.lowercasedString
            provider = entry.call.provider
            status = entry.call.status
            conferenceStatus = entry.conferenceStatus
            contactID = entry.contactID?.lowercasedString
            contactName = entry.contactName
            contactPhone = entry.contactPhone
            fromNumber = entry.call.fromNumber
            agentClientID = entry.agentClientID
            outcome = entry.outcome
            notes = entry.outcomeNotes
            callbackAt = entry.callbackAt
            outcomeRecordedAt = entry.outcomeRecordedAt
            durationSeconds = entry.call.durationSeconds
            recordingURL = entry.recordingURL
            recordingDurationSeconds = entry.recordingDurationSeconds
            createdAt = entry.call.createdAt
            answeredAt = entry.call.answeredAt
            endedAt = entry.call.endedAt
        }

        enum CodingKeys: String, CodingKey {
            case callID = "call_id"
            case conferenceID = "conference_id"
            case provider
            case status
            case conferenceStatus = "conference_status"
            case contactID = "contact_id"
            case contactName = "contact_name"
            case contactPhone = "contact_phone"
            case fromNumber = "from_number"
            case agentClientID = "agent_client_id"
            case outcome
            case notes
            case callbackAt = "callback_at"
            case outcomeRecordedAt = "outcome_recorded_at"
            case durationSeconds = "duration_seconds"
            case recordingURL = "recording_url"
            case recordingDurationSeconds = "recording_duration_seconds"
            case createdAt = "created_at"
            case answeredAt = "answered_at"
            case endedAt = "ended_at"
        }
    }

    struct LogResponse: ResponseEncodable {
        let calls: [LogEntryResponse]
        let nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case calls
            case nextCursor = "next_cursor"
        }
    }

    // MARK: - Routes

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("/cold-call/initiate") { request, context in
            var request = request
            let organizationID = try TelephonyController.organizationID(context, action: "place cold calls")
            let idempotencyKey = try TelephonyController.idempotencyKey(request)
            let body = try await request.decodeStrict(InitiateRequest.self, context: context)
            let explicit = try body.provider.map(TelephonyController.providerName)
            var contact: Contact?
            let to: String
            switch (body.contactID, body.toPhone) {
            case (let id?, nil):
                guard let uuid = UUID(uuidString: id),
                    let found = try await contacts.get(organizationID: organizationID, id: uuid, logger: context.logger)
                else { throw ContactController.notFound }
                contact = found
                to = found.phoneE164
            case (nil, let phone?):
                to = try TelephonyController.phoneNumber(phone, field: "to_phone")
            default:
                throw APIError.badRequest("invalid_field", "give exactly one of 'contact_id' and 'to_phone'")
            }
            let requestedFrom = try body.fromPhone.map { try TelephonyController.phoneNumber($0, field: "from_phone") }
            let provider = try await service.conferenceProvider(organizationID, named: explicit)
            let from = requestedFrom ?? provider.configuredNumbers.first ?? ""
            guard provider.configuredNumbers.contains(from) else {
                throw APIError.badRequest(
                    "invalid_field", "'from_phone' must be one of the organization's \(provider.name.rawValue) numbers")
            }
            let (conference, call, replayed) = try await service.dial(
                organizationID: organizationID, provider: provider, to: to, from: from, contact: contact,
                idempotencyKey: idempotencyKey,
                // The request as sent (a contact by its id), not what it resolved to.
                requestHash: TelephonyController.fingerprint([
                    "cold-call", contact?.id.lowercasedString ?? "", contact == nil ? to : "", requestedFrom ?? "",
                    explicit?.rawValue ?? "",
                ]),
                createdBy: context.apiKey?.id, actor: context.actor, logger: context.logger)
            let response = InitiateResponse(
                conferenceID: conference.id.lowercasedString, callID: call.id.lowercasedString, status: conference.status,
                callStatus: call.status, provider: call.provider, providerCallID: call.providerCallID)
            return EditedResponse(
                status: .created, headers: replayed ? [.idempotentReplay: "true"] : [:], response: response)
        }

        group.post("/cold-call/webrtc-join") { request, context in
            var request = request
            let organizationID = try TelephonyController.organizationID(context, action: "join cold calls")
            let body = try await request.decodeStrict(JoinRequest.self, context: context)
            guard ConferenceToken.isValidClientID(body.clientID) else {
                throw APIError.badRequest(
                    "invalid_field", "'client_id' must be 1-64 characters: letters, digits, '_', '.', '@' or '-'")
            }
            let conference = try await activeConference(body.conferenceID, organizationID, context)
            let provider = try await service.conferenceProvider(
                organizationID, named: ProviderName(rawValue: conference.provider))
            // The admission token decides how long the browser may join, whatever the SDK credential's own lifetime.
            let admissionExpires = Date(
                timeIntervalSince1970: TimeInterval(Int(service.now().timeIntervalSince1970 + ConferenceToken.lifetime)))
            let agentToken = service.signedToken(
                organizationID: organizationID, conferenceID: conference.id, role: .agent, clientID: body.clientID,
                expires: admissionExpires)
            let stored = try await provider.browserCredentialScope.asyncMap { scope in
                try await service.conferences.telephonyCredential(
                    organizationID: organizationID, connectionID: scope, clientID: body.clientID, logger: context.logger)
            } ?? nil
            let issued: BrowserToken
            do {
                issued = try await provider.browserToken(
                    clientID: body.clientID,
                    params: ["conference_id": conference.id.lowercasedString, "conference_token": agentToken],
                    storedCredentialID: stored, now: service.now(), logger: context.logger)
            } catch let error as ConferenceSetupError {
                throw APIError.unprocessable("provider_not_configured", error.description)
            } catch {
                throw TelephonyController.providerFailure(error, provider: provider.name, logger: context.logger)
            }
            if let created = issued.createdCredentialID, let scope = provider.browserCredentialScope {
                try await service.conferences.saveTelephonyCredential(
                    organizationID: organizationID, connectionID: scope, clientID: body.clientID, credentialID: created,
                    logger: context.logger)
            }
            try await service.conferences.setAgent(
                organizationID: organizationID, id: conference.id, clientID: body.clientID, actor: context.actor,
                logger: context.logger)
            let isTwilio = provider.conferenceStyle == .markup
            return JoinResponse(
                provider: provider.name.rawValue, conferenceID: conference.id.lowercasedString, clientID: body.clientID,
                expiresAt: min(issued.expiresAt, admissionExpires), accessToken: isTwilio ? issued.token : nil,
                loginToken: isTwilio ? nil : issued.token,
                callOptions: isTwilio ? nil : .init(clientState: Data(agentToken.utf8).base64EncodedString()))
        }

        group.post("/cold-call/control/:action") { request, context in
            var request = request
            let organizationID = try TelephonyController.organizationID(context, action: "control cold calls")
            guard let action = ParticipantControl(rawValue: try context.pathParameter("action")) else {
                throw APIError.notFound("not_found", "control actions are mute, unmute, hold and unhold")
            }
            let body = try await request.decodeStrict(ControlRequest.self, context: context)
            let conference = try await activeConference(body.conferenceID, organizationID, context)
            let participants = try await service.conferences.participants(
                organizationID: organizationID, conferenceID: conference.id, logger: context.logger)
            guard let participantID = UUID(uuidString: body.participantID),
                let participant = participants.first(where: { $0.id == participantID })
            else {
                throw APIError.notFound("participant_not_found", "no such participant in this conference")
            }
            guard participant.leftAt == nil else {
                throw APIError.conflict("participant_left", "the participant has left the conference")
            }
            guard let providerConferenceID = conference.providerConferenceID, participant.joinedAt != nil else {
                throw APIError.conflict("participant_not_joined", "the participant has not joined the conference yet")
            }
            let provider = try await service.conferenceProvider(
                organizationID, named: ProviderName(rawValue: conference.provider))
            do {
                try await provider.control(
                    action, providerConferenceID: providerConferenceID, callID: participant.providerCallID,
                    logger: context.logger)
            } catch ProviderError.rejected(let status, let reason) where status == 404 {
                context.logger.info("conference gone at the provider", metadata: ["reason": "\(reason)"])
                throw APIError.conflict(
                    "conference_gone", "the conference or the participant no longer exists at \(provider.name.rawValue)")
            } catch {
                throw TelephonyController.providerFailure(error, provider: provider.name, logger: context.logger)
            }
            // Telnyx confirms mute and hold in its answer and sends no webhook for them.
            let confirmed =
                provider.conferenceStyle == .bridge
                ? ConferenceStore.ConfirmedState(
                    muted: action == .mute ? true : action == .unmute ? false : nil,
                    onHold: action == .hold ? true : action == .unhold ? false : nil,
                    sequence: Int64((service.now().timeIntervalSince1970 * 1_000_000).rounded()))
                : nil
            try await service.conferences.recordControl(
                organizationID: organizationID, conferenceID: conference.id, participantID: participant.id,
                action: action.rawValue, provider: provider.name.rawValue, confirmed: confirmed, actor: context.actor,
                logger: context.logger)
            let state = confirmed == nil ? "requested" : "confirmed"
            let current = try await service.conferences.participants(
                organizationID: organizationID, conferenceID: conference.id, logger: context.logger
            ).first { $0.id == participant.id } ?? participant
            return EditedResponse(
                status: .accepted,
                response: ControlResponse(
                    conferenceID: conference.id.lowercasedString, action: action.rawValue, state: state,
                    participant: ParticipantResponse(current)))
        }

        group.post("/cold-call/end") { request, context in
            var request = request
            let organizationID = try TelephonyController.organizationID(context, action: "end cold calls")
            let body = try await request.decodeStrict(EndRequest.self, context: context)
            let conference = try await conference(body.conferenceID, organizationID, context)
            let ended = try await service.end(
                organizationID: organizationID, conference: conference, actor: context.actor, logger: context.logger)
            return try await status(ended, organizationID, context)
        }

        group.get("/cold-call/status/:conference_id") { _, context in
            let organizationID = try TelephonyController.organizationID(context, action: "read cold calls")
            let found = try await conference(try context.pathParameter("conference_id"), organizationID, context)
            return try await status(found, organizationID, context)
        }

        group.post("/cold-call/calls/:call_id/outcome") { request, context in
            var request = request
            let organizationID = try TelephonyController.organizationID(context, action: "log call outcomes")
            let body = try await request.decodeStrict(OutcomeRequest.self, context: context)
            let record = try Self.outcome(body, recordedBy: context.apiKey?.id)
            guard let callID = UUID(uuidString: try context.pathParameter("call_id")),
                let entry = try await service.conferences.recordOutcome(
                    organizationID: organizationID, callID: callID, record, actor: context.actor, logger: context.logger)
            else {
                throw APIError.notFound("call_not_found", "no such cold call in this organization")
            }
            return LogEntryResponse(entry)
        }

        group.get("/cold-call/calls") { request, context in
            let organizationID = try TelephonyController.organizationID(context, action: "read the call log")
            let page = try Page(request: request)
            let outcome = request.uri.queryParameters.get("outcome")
            if let outcome, !Self.outcomes.contains(outcome) {
                throw APIError.badRequest("invalid_query", "'outcome' must be one of \(Self.outcomes.sorted().joined(separator: ", "))")
            }
            let cursor = try page.cursor.map(TelephonyController.decodeCursor)
            let found = try await service.conferences.log(
                organizationID: organizationID, outcome: outcome, after: cursor, limit: page.limit + 1, logger: context.logger)
            let items = Array(found.prefix(page.limit))
            return LogResponse(
                calls: items.map(LogEntryResponse.init),
                nextCursor: found.count > page.limit ? items.last.map { TelephonyController.encodeCursor($0.call) } : nil)
        }
    }

    // MARK: - Helpers

    /// The same answer for a missing session and another organization's.
    static let conferenceNotFound = APIError.notFound("conference_not_found", "no such conference in this organization")

    func conference(_ raw: String, _ organizationID: UUID, _ context: AppRequestContext) async throws -> Conference {
        guard let id = UUID(uuidString: raw),
            let found = try await service.conferences.get(organizationID: organizationID, id: id, logger: context.logger)
        else { throw Self.conferenceNotFound }
        return found
    }

    /// A session that can still be joined and controlled.
    func activeConference(_ raw: String, _ organizationID: UUID, _ context: AppRequestContext) async throws -> Conference {
        let found = try await conference(raw, organizationID, context)
        guard found.status != "completed", found.endRequestedAt == nil else {
            throw APIError.conflict("conference_ended", "the conference has ended")
        }
        return found
    }

    func status(_ conference: Conference, _ organizationID: UUID, _ context: AppRequestContext) async throws
        -> StatusResponse
    {
        let participants = try await service.conferences.participants(
            organizationID: organizationID, conferenceID: conference.id, logger: context.logger)
        let call = try await service.conferences.contactCall(
            organizationID: organizationID, conferenceID: conference.id, logger: context.logger)
        return StatusResponse(
            conferenceID: conference.id.lowercasedString, provider: conference.provider, status: conference.status,
            durationSeconds: conference.durationSeconds(now: service.now()), createdAt: conference.createdAt,
            startedAt: conference.startedAt, endedAt: conference.endedAt, endRequestedAt: conference.endRequestedAt,
            endedReason: conference.endedReason, contactID: conference.contactID?.lowercasedString, contactName: conference.contactName,
            contactPhone: conference.contactPhone, callID: call?.id.lowercasedString, callStatus: call?.status,
            agentClientID: conference.agentClientID, participants: participants.map(ParticipantResponse.init))
    }

    static func outcome(_ body: OutcomeRequest, recordedBy: UUID?) throws(APIError) -> CallOutcomeRecord {
        guard outcomes.contains(body.outcome) else {
            throw APIError.badRequest("invalid_field", "'outcome' must be one of \(outcomes.sorted().joined(separator: ", "))")
        }
        if let notes = body.notes, notes.isEmpty || notes.count > 2000 {
            throw APIError.badRequest("invalid_field", "'notes' must be 1-2000 characters")
        }
        var callbackAt: Date?
        if let raw = body.callbackAt {
            guard let parsed = try? Date(raw, strategy: .iso8601) else {
                throw APIError.badRequest("invalid_field", "'callback_at' must be an ISO 8601 date-time like 2026-11-21T15:00:00Z")
            }
            guard body.outcome == "callback_requested" else {
                throw APIError.badRequest("invalid_field", "'callback_at' goes with the outcome callback_requested only")
            }
            callbackAt = parsed
        }
        return CallOutcomeRecord(outcome: body.outcome, notes: body.notes, callbackAt: callbackAt, recordedBy: recordedBy)
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
