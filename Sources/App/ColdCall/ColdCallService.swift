import Foundation
import Logging
import Persistence
import Providers

/// The cold-call workflow shared by the API routes and the provider webhooks: dial the contact
/// into a session's conference, admit the agent's browser leg, control participants, end the
/// session, and apply what the provider reports. All state is in PostgreSQL, so any instance can
/// serve any step.
struct ColdCallService: Sendable {
    let conferences: ConferenceStore
    let calls: CallStore
    /// Where the organization's `RECORDING_POLICY` is read.
    let configurations: ConfigurationStore
    let factory: ProviderFactory
    let settings: TelephonySettings
    let tokens: TokenSigner
    let now: @Sendable () -> Date
    /// Counts provider events that could not be applied (logged, never dropped silently).
    var metrics: AppMetrics? = nil
    /// The organization's CALL_POLICY for the contact's call; nil applies none.
    var callPolicy: CallPolicyGate? = nil
    /// How long a leg may hold the lease to create a session's provider conference: past the
    /// provider's deadline, so a live claimant is never overtaken.
    var bridgeLease: Duration = .seconds(12)

    // MARK: - Addresses

    /// `…/webhooks/{provider}/{org}/cold-call/{kind}`.
    func webhookURL(_ provider: ProviderName, _ organizationID: UUID, _ kind: String) -> String {
        settings.webhookURL(provider, organizationID, "cold-call/\(kind)")
    }

    /// A conference token admitting a leg until `expires` (default: `ConferenceToken.lifetime` from now).
    func signedToken(
        organizationID: UUID, conferenceID: UUID, role: ConferenceToken.Role, clientID: String = "", expires: Date? = nil
    ) -> String {
        tokens.token(
            for: ConferenceToken(
                organizationID: organizationID, conferenceID: conferenceID, role: role, clientID: clientID,
                expires: Int(expires?.timeIntervalSince1970 ?? (now().timeIntervalSince1970 + ConferenceToken.lifetime))))
    }

    // MARK: - Provider resolution

    /// The organization's provider for cold calls: one that can run conferences.
    func conferenceProvider(_ organizationID: UUID, named name: ProviderName?) async throws -> any ConferenceProvider {
        let provider: any TelephonyProvider
        do {
            provider = try await factory.provider(for: organizationID, explicit: name)
        } catch let error as ProviderResolutionError {
            throw ColdCallError.providerNotConfigured(error.description)
        } catch let error as ConfigurationValidationError {
            throw ColdCallError.providerNotConfigured("the stored configuration is no longer valid: \(error)")
        }
        guard let conferencing = provider as? any ConferenceProvider else {
            throw ColdCallError.providerUnsupported(provider.name)
        }
        return conferencing
    }

    // MARK: - Recording policy

    /// The organization's `RECORDING_POLICY`; `off` when it stored none. A stored document that no
    /// longer validates records nothing (and says so in the log) rather than record without consent.
    func recordingPolicy(_ organizationID: UUID, logger: Logger) async throws -> RecordingPolicy {
        guard
            let opened = try await configurations.open(
                organizationID: organizationID, key: ConfigurationKey.recordingPolicy.rawValue, logger: logger)
        else { return .off }
        do {
            let object = try JSONDecoder().decode(JSONValue.self, from: opened.document).objectValue ?? [:]
            return try RecordingPolicy(document: object)
        } catch {
            logger.error("stored RECORDING_POLICY is invalid; not recording", metadata: ["problems": "\(error)"])
            return .off
        }
    }

    // MARK: - Dialing

    /// Dials the contact for a new session; returns the session and the contact's call. The
    /// `cold_call.initiate` audit event is written with the call's placed (or unconfirmed) state; a
    /// replay and a dial the provider refused (its session is discarded) write none.
    func dial(
        organizationID: UUID, provider: any ConferenceProvider, to: String, from: String, contact: Contact?,
        idempotencyKey: String?, requestHash: String, createdBy: UUID?, actor: Actor, logger: Logger
    ) async throws -> (Conference, Call, replayed: Bool) {
        let limits = try await callPolicy?.limits(
            organizationID: organizationID, destination: to, ownNumbers: provider.configuredNumbers, logger: logger)
        let conference = try await conferences.create(
            organizationID: organizationID,
            NewConference(
                provider: provider.name.rawValue, contactID: contact?.id, contactName: contact?.name, contactPhone: to,
                fromNumber: from, createdBy: createdBy),
            logger: logger)
        let new = NewCall(
            provider: provider.name.rawValue, fromNumber: from, toNumber: to, workflowID: nil, workflowRunID: nil,
            idempotencyKey: idempotencyKey, requestHash: requestHash, createdBy: createdBy, conferenceID: conference.id,
            limits: limits)
        let call: Call
        do {
            switch try await calls.begin(organizationID: organizationID, call: new, logger: logger) {
            case .replay(let earlier):
                try await conferences.discard(organizationID: organizationID, id: conference.id, logger: logger)
                guard let conferenceID = try await conferences.conferenceID(ofCall: earlier.id, organizationID: organizationID, logger: logger),
                    let earlierConference = try await conferences.get(organizationID: organizationID, id: conferenceID, logger: logger)
                else {
                    throw ColdCallError.idempotencyKeyReused
                }
                if earlier.rawStatus == "unconfirmed" {
                    throw ColdCallError.providerUnconfirmed(callID: earlier.id)
                }
                return (earlierConference, earlier, true)
            case .started(let started):
                call = started
            }
        } catch let error as PersistenceError {
            try? await conferences.discard(organizationID: organizationID, id: conference.id, logger: logger)
            throw error
        }
        let policy = try await recordingPolicy(organizationID, logger: logger)
        let contactToken = signedToken(organizationID: organizationID, conferenceID: conference.id, role: .contact)
        let name = provider.name
        let dial = ConferenceDial(
            to: to, from: from,
            markupURL: webhookURL(name, organizationID, "twiml") + "?token=" + TelephonySettings.escape(contactToken),
            // Twilio reports the contact's call status to the status route like any call; Telnyx sends
            // every event of a Call Control leg to one URL.
            callEventsURL: provider.conferenceStyle == .markup
                ? settings.webhookURL(name, organizationID, "status") : webhookURL(name, organizationID, "events"),
            recordingEventsURL: webhookURL(name, organizationID, "events"),
            clientState: provider.conferenceStyle == .bridge ? contactToken : nil,
            idempotencyKey: call.id.lowercasedString,
            // Recorded from answer only without an announcement; with one, recording starts after it
            // (Twilio: the conference records from its start; Telnyx: record_start once speak ended).
            record: policy.mode == .on)
        // Ids and the provider only: never the numbers.
        func audit(_ result: String) -> AuditStore.Entry {
            var details = ["provider": name.rawValue, "call_id": call.id.lowercasedString, "result": result]
            if let contact { details["contact_id"] = contact.id.lowercasedString }
            return AuditStore.Entry(
                organizationID: organizationID, actor: actor, action: "cold_call.initiate",
                target: conference.id.lowercasedString, details: details)
        }
        let placed: PlacedCall
        do {
            placed = try await provider.dialIntoConference(dial, logger: logger)
        } catch ProviderError.rejected(let status, let reason) {
            try await conferences.discard(organizationID: organizationID, id: conference.id, logger: logger)
            throw ColdCallError.provider(
                ProviderError.rejected(status: status, reason: reason), name, logger: logger)
        } catch {
            // The call may exist: keep its row (failed, unconfirmed) and close the session.
            try await calls.markUnconfirmed(
                organizationID: organizationID, id: call.id, audit: audit("unconfirmed"), logger: logger)
            try await conferences.completeUnstarted(organizationID: organizationID, id: conference.id, logger: logger)
            throw ColdCallError.provider(error, name, logger: logger)
        }
        let stored = try await calls.markPlaced(
            organizationID: organizationID, id: call.id, providerCallID: placed.providerCallID,
            status: placed.status.rawValue, rawStatus: placed.rawStatus, audit: audit("ok"), logger: logger)
        return (conference, stored, false)
    }

    // MARK: - Ending

    /// Ends the provider conference and hangs up every leg still up; a completed session is left as is.
    /// The end request is recorded with its `cold_call.end` audit event before the provider is asked.
    func end(organizationID: UUID, conference: Conference, actor: Actor, logger: Logger) async throws -> Conference {
        guard conference.status != "completed" else { return conference }
        let name = ProviderName(rawValue: conference.provider) ?? .twilio
        let provider = try await conferenceProvider(organizationID, named: name)
        try await conferences.markEndRequested(
            organizationID: organizationID, id: conference.id, actor: actor, logger: logger)
        if let providerConferenceID = conference.providerConferenceID {
            do {
                try await provider.endConference(providerConferenceID: providerConferenceID, logger: logger)
            } catch ProviderError.rejected(let status, let reason) {
                // Already gone at the provider: that is what was asked for.
                logger.info(
                    "conference already ended at the provider", metadata: ["status": "\(status)", "reason": "\(reason)"])
            } catch {
                throw ColdCallError.provider(error, name, logger: logger)
            }
        }
        var legs: [String] = []
        if let call = try await conferences.contactCall(organizationID: organizationID, conferenceID: conference.id, logger: logger),
            let id = call.providerCallID, !(CallStatus(rawValue: call.status)?.isTerminal ?? true)
        {
            legs.append(id)
        }
        let participants = try await conferences.participants(
            organizationID: organizationID, conferenceID: conference.id, logger: logger)
        legs += participants.filter { $0.leftAt == nil }.map(\.providerCallID)
        for leg in Set(legs) {
            do {
                try await provider.hangUp(providerCallID: leg, logger: logger)
            } catch ProviderError.rejected {
                // The leg already ended.
            } catch {
                throw ColdCallError.provider(error, name, logger: logger)
            }
        }
        if conference.providerConferenceID == nil {
            try await conferences.completeUnstarted(organizationID: organizationID, id: conference.id, logger: logger)
        }
        return try await conferences.get(organizationID: organizationID, id: conference.id, logger: logger) ?? conference
    }

    // MARK: - Webhooks

    /// The markup for a Twilio leg asking to join: the contact's (token in the URL) or the agent's
    /// browser leg (token in the Access Token's params). A leg that may not join is hung up.
    func joinMarkup(
        organizationID: UUID, provider: any ConferenceProvider, webhook: WebhookRequest, queryToken: String?,
        logger: Logger
    ) async throws -> WebhookMarkup {
        let hangup = WebhookMarkup(
            contentType: "text/xml", body: #"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#)
        let form = Dictionary(webhook.formParameters, uniquingKeysWith: { first, _ in first })
        let presented = queryToken ?? form["conference_token"]
        guard let presented, let claim = tokens.claim(presented, now: now()), claim.organizationID == organizationID,
            let callSID = form["CallSid"]
        else {
            logger.warning("conference join refused: no valid conference token")
            return hangup
        }
        guard let conference = try await conferences.get(organizationID: organizationID, id: claim.conferenceID, logger: logger),
            conference.provider == provider.name.rawValue, conference.status != "completed", conference.endRequestedAt == nil
        else {
            logger.info("conference join refused: session ended or unknown")
            return hangup
        }
        try await conferences.addParticipant(
            organizationID: organizationID, conferenceID: conference.id, role: claim.role.rawValue,
            providerCallID: callSID, clientID: claim.clientID.isEmpty ? nil : claim.clientID, logger: logger)
        let policy = try await recordingPolicy(organizationID, logger: logger)
        let recording =
            policy.mode == .onWithAnnouncement
            ? MarkupRecording(
                announcement: claim.role == .contact ? policy.announcement : nil,
                eventsURL: webhookURL(provider.name, organizationID, "events"))
            : nil
        return provider.conferenceMarkup(
            name: conference.name, statusCallbackURL: webhookURL(provider.name, organizationID, "events"),
            endConferenceOnExit: true, recording: recording)
    }

    /// Applies a verified conference, call-leg or recording webhook. Call-leg work that talks to the
    /// provider (answering the agent's leg, bridging answered legs) happens before the event is
    /// stored, so a failure answers 5xx and the provider's retry does it again.
    func handleEvent(
        organizationID: UUID, provider: any ConferenceProvider, webhook: WebhookRequest, logger: Logger
    ) async throws {
        let event: ProviderConferenceEvent
        do {
            event = try provider.parseConferenceEvent(webhook)
        } catch {
            throw ColdCallError.malformedWebhook
        }
        let payload = Data(webhook.body)
        let name = provider.name.rawValue
        let occurredAt = event.occurredAt ?? now()
        let sequence = event.sequence ?? Int64((occurredAt.timeIntervalSince1970 * 1_000_000).rounded())
        // Which session: the leg's signed client state, else the conference's name, else its provider id.
        let signed = event.clientState.flatMap { tokens.claim($0, now: nil) }
        if let signed, signed.organizationID != organizationID {
            // Another organization's leg (its event verifies here when organizations share provider
            // credentials): acknowledged, stored nowhere, and no leg is touched.
            logger.notice("cold-call event of another organization's session ignored")
            return
        }
        let claim = signed
        let conferenceID = claim?.conferenceID ?? event.conferenceName.flatMap(Conference.id(fromName:))

        switch event.kind {
        case .recordingCompleted:
            guard let recording = event.recording else {
                // A provider client that reports a recording without one: say so rather than drop it unseen.
                logger.warning(
                    "recording event without a recording; ignored",
                    metadata: ["provider": "\(name)", "event_key": "\(event.eventKey)"])
                metrics?.webhookEventUnmatched(provider: provider.name, kind: "recording")
                return
            }
            // Twilio names the call; Telnyx's call.recording.saved names only the leg (call_leg_id)
            // and carries the contact leg's signed client state.
            var record = RecordingRecord(
                provider: name, eventKey: event.eventKey, providerCallID: event.providerCallID,
                providerLegID: event.providerLegID, conferenceID: claim?.role == .contact ? claim?.conferenceID : nil,
                recordingID: recording.id, url: recording.url, durationSeconds: recording.durationSeconds,
                payload: payload)
            // A Twilio conference recording names the conference only.
            record.providerConferenceID = event.providerConferenceID
            let outcome = try await conferences.recordRecording(record, organizationID: organizationID, logger: logger)
            if outcome == .unmatched {
                logger.warning(
                    "recording event matches no call of this organization; acknowledged, stored nowhere",
                    metadata: ["provider": "\(name)", "event_key": "\(event.eventKey)"])
                metrics?.webhookEventUnmatched(provider: provider.name, kind: "recording")
            }
        case .conferenceStarted, .conferenceEnded, .participantJoined, .participantLeft, .participantUpdated:
            let kind: ConferenceEventRecord.Kind =
                switch event.kind {
                case .conferenceStarted: .conferenceStarted
                case .conferenceEnded: .conferenceEnded
                case .participantJoined: .participantJoined
                case .participantLeft: .participantLeft
                default: .participantUpdated
                }
            _ = try await conferences.apply(
                ConferenceEventRecord(
                    provider: name, eventKey: event.eventKey, kind: kind, conferenceID: conferenceID,
                    providerConferenceID: event.providerConferenceID, providerCallID: event.providerCallID,
                    muted: event.muted, onHold: event.onHold, sequence: sequence, occurredAt: occurredAt, payload: payload),
                organizationID: organizationID, logger: logger)
        case .callInitiated, .callAnswered, .callEnded:
            if let claim, let callID = event.providerCallID {
                if event.kind == .callInitiated, event.direction == "incoming" {
                    try await admitInbound(
                        organizationID: organizationID, provider: provider, claimToken: event.clientState ?? "",
                        callID: callID, logger: logger)
                } else if event.kind == .callAnswered {
                    let bridged = try await bridge(
                        organizationID: organizationID, provider: provider, claim: claim,
                        clientState: event.clientState, callID: callID, logger: logger)
                    if bridged, claim.role == .contact, provider.conferenceStyle == .bridge {
                        try await announceIfPolicyAsks(
                            organizationID: organizationID, provider: provider, callID: callID,
                            clientState: event.clientState, logger: logger)
                    }
                }
            } else if event.kind == .callInitiated, event.direction == "incoming", let callID = event.providerCallID {
                // An inbound leg with no valid session token: never leave it parked.
                logger.warning("inbound leg without a valid conference token; hanging up")
                try? await provider.hangUp(providerCallID: callID, logger: logger)
            }
            let status: CallStatusEvent
            do {
                status = try provider.parseStatusCallback(webhook)
            } catch {
                // Never dropped silently: kept as an unread event, logged and counted.
                logger.warning(
                    "call event has no readable status; stored in webhook_events only",
                    metadata: ["provider": "\(name)", "event_key": "\(event.eventKey)", "error": "\(error)"])
                metrics?.webhookEventUnmatched(provider: provider.name, kind: "call_status")
                _ = try await calls.record(
                    RecordedEvent(
                        provider: name, eventKey: event.eventKey, kind: "other", providerCallID: event.providerCallID,
                        status: nil, rawStatus: "\(event.kind)", durationSeconds: nil, payload: payload),
                    organizationID: organizationID, logger: logger)
                return
            }
            _ = try await calls.record(
                RecordedEvent(
                    provider: name, eventKey: status.eventKey, kind: "status", providerCallID: status.providerCallID,
                    status: status.status?.rawValue, rawStatus: status.rawStatus,
                    durationSeconds: status.durationSeconds, payload: payload, providerLegID: status.providerLegID),
                organizationID: organizationID, logger: logger)
        case .other(let type):
            if type == "call.speak.ended", claim?.role == .contact, let callID = event.providerCallID {
                // The announcement has been spoken: recording may start now.
                let policy = try await recordingPolicy(organizationID, logger: logger)
                if policy.mode == .onWithAnnouncement {
                    try await provider.startRecording(callID: callID, clientState: event.clientState, logger: logger)
                }
            }
            _ = try await calls.record(
                RecordedEvent(
                    provider: name, eventKey: event.eventKey, kind: "other", providerCallID: event.providerCallID,
                    status: nil, rawStatus: type, durationSeconds: nil, payload: payload),
                organizationID: organizationID, logger: logger)
        }
    }

    /// Speaks the recording announcement to the contact's just-bridged leg (bridge style) when the
    /// policy asks for one; recording starts when the provider reports it spoken (`call.speak.ended`).
    /// A failed announcement is logged and records nothing.
    func announceIfPolicyAsks(
        organizationID: UUID, provider: any ConferenceProvider, callID: String, clientState: String?, logger: Logger
    ) async throws {
        let policy = try await recordingPolicy(organizationID, logger: logger)
        guard policy.mode == .onWithAnnouncement, let text = policy.announcement else { return }
        do {
            try await provider.announce(callID: callID, text: text, clientState: clientState, logger: logger)
        } catch {
            logger.warning("recording announcement not played; the call is not recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Answers the agent's inbound browser leg when its token admits it now.
    func admitInbound(
        organizationID: UUID, provider: any ConferenceProvider, claimToken: String, callID: String, logger: Logger
    ) async throws {
        guard let claim = tokens.claim(claimToken, now: now()), claim.role == .agent,
            let conference = try await conferences.get(organizationID: organizationID, id: claim.conferenceID, logger: logger),
            conference.status != "completed", conference.endRequestedAt == nil
        else {
            logger.info("inbound leg refused: token expired or session over")
            try? await provider.hangUp(providerCallID: callID, logger: logger)
            return
        }
        do {
            try await provider.answerInbound(callID: callID, clientState: claimToken, logger: logger)
        } catch ProviderError.rejected(let status, let reason) {
            // The leg is gone (the browser hung up): nothing to answer.
            logger.info("inbound leg could not be answered", metadata: ["status": "\(status)", "reason": "\(reason)"])
        }
    }

    /// Puts an answered leg into its session's conference: the first creates the provider
    /// conference, later ones join it. Each step claims its work in a short transaction
    /// (`ConferenceStore.claimBridge`: a creation lease), asks the provider outside any transaction,
    /// then records the result; so two legs answered at once on two instances create exactly one
    /// conference (the second waits for the lease, then joins), and no row lock or pooled connection
    /// is held across a provider request. A bridge whose provider request succeeded but whose result
    /// was not recorded is redone by the provider's retry of the event: the lease's holder (or its
    /// successor once it ran out) finds the conference by name before creating one.
    /// Returns whether this delivery put the leg into the conference (false: nothing to do, or hung up).
    @discardableResult
    func bridge(
        organizationID: UUID, provider: any ConferenceProvider, claim: ConferenceToken, clientState: String?,
        callID: String, logger: Logger
    ) async throws -> Bool {
        guard provider.conferenceStyle == .bridge else { return false }
        let participant = NewParticipant(
            role: claim.role.rawValue, providerCallID: callID, clientID: claim.clientID.isEmpty ? nil : claim.clientID)
        let start = ContinuousClock.now
        while true {
            let next = try await conferences.claimBridge(
                organizationID: organizationID, id: claim.conferenceID, providerCallID: callID, lease: bridgeLease,
                logger: logger)
            switch next {
            case .unknown, .alreadyBridged:
                return false
            case .ended:
                logger.info("answered leg of an ended session; hanging up")
                try? await provider.hangUp(providerCallID: callID, logger: logger)
                return false
            case .join(let providerConferenceID):
                do {
                    try await provider.joinConference(
                        providerConferenceID: providerConferenceID, callID: callID, clientState: clientState, logger: logger)
                } catch {
                    try? await conferences.releaseBridgeLease(
                        organizationID: organizationID, id: claim.conferenceID, logger: logger)
                    throw error
                }
                try await conferences.recordBridge(
                    organizationID: organizationID, id: claim.conferenceID, providerConferenceID: nil,
                    participant: participant, logger: logger)
                return true
            case .create(let name, let lookUpFirst):
                do {
                    try await create(
                        organizationID: organizationID, provider: provider, name: name, lookUpFirst: lookUpFirst,
                        participant: participant, conferenceID: claim.conferenceID, clientState: clientState,
                        callID: callID, logger: logger)
                } catch {
                    try? await conferences.releaseBridgeLease(
                        organizationID: organizationID, id: claim.conferenceID, logger: logger)
                    throw error
                }
                return true
            case .wait:
                // Another delivery is creating the conference; its lease bounds the wait.
                guard ContinuousClock.now - start < bridgeLease + .seconds(1) else {
                    throw ProviderError.unavailable("another leg is still creating the conference; retry")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// The creation step of `bridge`, run holding the lease.
    private func create(
        organizationID: UUID, provider: any ConferenceProvider, name: String, lookUpFirst: Bool,
        participant: NewParticipant, conferenceID: UUID, clientState: String?, callID: String, logger: Logger
    ) async throws {
        if lookUpFirst, let found = try await provider.findConference(name: name, logger: logger) {
            // An earlier claimant created it; join it unless this leg is the one that did.
            do {
                try await provider.joinConference(
                    providerConferenceID: found, callID: callID, clientState: clientState, logger: logger)
            } catch ProviderError.rejected(let status, let reason) {
                // Already in it (this leg created it before its result was lost), or gone: the
                // conference id is right either way, and the provider's events say who is in it.
                logger.info("leg not joined to the found conference", metadata: ["status": "\(status)", "reason": "\(reason)"])
            }
            try await conferences.recordBridge(
                organizationID: organizationID, id: conferenceID, providerConferenceID: found,
                participant: participant, logger: logger)
            return
        }
        let created = try await provider.createConference(
            name: name, callID: callID, clientState: clientState, logger: logger)
        try await conferences.recordBridge(
            organizationID: organizationID, id: conferenceID, providerConferenceID: created,
            participant: participant, logger: logger)
    }
}
