import Foundation
import Logging
import PostgresNIO

/// Cold-call sessions, their participants, outcomes and recordings in PostgreSQL.
///
/// Every provider event is stored once in `webhook_events` (duplicates are acknowledged no-ops)
/// and applied in a way that does not depend on delivery order: status only moves forward, times
/// are set once, and a participant's mute/hold follow the newest event by the provider's sequence.
public struct ConferenceStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    static let columns = """
        organization_id, id, provider, name, provider_conference_id, status, contact_id, contact_name, contact_phone,
        from_number, agent_client_id, created_at, started_at, ended_at, end_requested_at, ended_reason,
        bridge_lease_call, bridge_lease_until
        """

    static let participantColumns = """
        organization_id, id, conference_id, role, provider_call_id, client_id, muted, on_hold, joined_at, left_at
        """

    // MARK: - Sessions

    /// Records a new session before its contact is dialed.
    public func create(organizationID: UUID, _ new: NewConference, logger: Logger) async throws -> Conference {
        let id = UUID()
        let rows = try await client.query(
            """
            INSERT INTO conferences (organization_id, id, provider, name, contact_id, contact_name, contact_phone,
                                     from_number, created_by)
            VALUES (\(organizationID), \(id), \(new.provider), \(Conference.name(for: id)), \(new.contactID),
                    \(new.contactName), \(new.contactPhone), \(new.fromNumber), \(new.createdBy))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        guard let conference = try await Self.decode(rows).first else { throw PersistenceError.notFound("conference") }
        return conference
    }

    /// Removes a session nothing was placed for (the provider refused the dial, or the request was a replay).
    public func discard(organizationID: UUID, id: UUID, logger: Logger) async throws {
        try await client.inTransaction(logger: logger) { connection in
            try await connection.query(
                """
                DELETE FROM calls WHERE organization_id = \(organizationID) AND conference_id = \(id)
                  AND status = 'initiating'
                """, logger: logger)
            try await connection.query(
                """
                DELETE FROM conferences c WHERE organization_id = \(organizationID) AND id = \(id)
                  AND NOT EXISTS (SELECT 1 FROM calls WHERE organization_id = c.organization_id AND conference_id = c.id)
                """, logger: logger)
        }
    }

    /// One of the organization's sessions.
    public func get(organizationID: UUID, id: UUID, logger: Logger) async throws -> Conference? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM conferences WHERE organization_id = \(organizationID) AND id = \(id)",
            logger: logger)
        return try await Self.decode(rows).first
    }

    /// A session's participants, in the order they were recorded.
    public func participants(organizationID: UUID, conferenceID: UUID, logger: Logger) async throws
        -> [ConferenceParticipant]
    {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.participantColumns) FROM conference_participants
            WHERE organization_id = \(organizationID) AND conference_id = \(conferenceID)
            ORDER BY created_at, id
            """, logger: logger)
        return try await Self.decodeParticipants(rows)
    }

    /// The contact's leg of a session (its row in `calls`).
    public func contactCall(organizationID: UUID, conferenceID: UUID, logger: Logger) async throws -> Call? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: CallStore.columns) FROM calls
            WHERE organization_id = \(organizationID) AND conference_id = \(conferenceID)
            ORDER BY created_at LIMIT 1
            """, logger: logger)
        return try await CallStore.decode(rows).first
    }

    /// Remembers which browser client asked to join, with the `cold_call.join` audit event in the
    /// same transaction (the session and provider, never the client's token).
    public func setAgent(organizationID: UUID, id: UUID, clientID: String, actor: Actor, logger: Logger) async throws {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE conferences SET agent_client_id = \(clientID), updated_at = now()
                WHERE organization_id = \(organizationID) AND id = \(id) RETURNING provider
                """, logger: logger)
            for try await provider in rows.decode(String.self) {
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: organizationID, actor: actor, action: "cold_call.join",
                        target: id.uuidString.lowercased(), details: ["provider": provider]),
                    on: connection, logger: logger)
            }
        }
    }

    /// Records a leg Switchboard has just put (or is putting) into the session; an existing row is kept.
    @discardableResult
    public func addParticipant(
        organizationID: UUID, conferenceID: UUID, role: String, providerCallID: String, clientID: String?, logger: Logger
    ) async throws -> ConferenceParticipant {
        try await client.inTransaction(logger: logger) { connection in
            try await Self.addParticipant(
                organizationID: organizationID, conferenceID: conferenceID, role: role, providerCallID: providerCallID,
                clientID: clientID, on: connection, logger: logger)
        }
    }

    static func addParticipant(
        organizationID: UUID, conferenceID: UUID, role: String, providerCallID: String, clientID: String?,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> ConferenceParticipant {
        try await connection.query(
            """
            INSERT INTO conference_participants (organization_id, id, conference_id, role, provider_call_id, client_id)
            VALUES (\(organizationID), \(UUID()), \(conferenceID), \(role), \(providerCallID), \(clientID))
            ON CONFLICT (organization_id, conference_id, provider_call_id) DO NOTHING
            """, logger: logger)
        let rows = try await connection.query(
            """
            SELECT \(unescaped: participantColumns) FROM conference_participants
            WHERE organization_id = \(organizationID) AND conference_id = \(conferenceID)
              AND provider_call_id = \(providerCallID)
            """, logger: logger)
        guard let participant = try await decodeParticipants(rows).first else {
            throw PersistenceError.notFound("participant")
        }
        return participant
    }

    /// What a leg answered into a bridge-style session should do next (see `claimBridge`).
    public enum BridgeClaim: Sendable, Equatable {
        /// No such session in this organization.
        case unknown
        /// The leg is already one of the session's participants: nothing to do.
        case alreadyBridged
        /// The session ended (or its end was asked for): hang the leg up.
        case ended
        /// The provider conference exists: join it (this leg holds the lease meanwhile).
        case join(providerConferenceID: String)
        /// This leg holds the lease to create the provider conference. `lookUpFirst`: an earlier
        /// claimant (maybe this leg, before a failed commit) may have created it already, so find it
        /// by name at the provider before creating one.
        case create(name: String, lookUpFirst: Bool)
        /// Another leg holds the lease and is creating the conference now: ask again shortly.
        case wait
    }

    /// Decides, in one short transaction, what an answered leg does to bridge into the session, and
    /// takes the session's bridge lease when it must create or join the provider conference. The provider is asked outside
    /// any transaction (no row lock or pooled connection held across its request); the result is
    /// then written with `recordBridge`. A lease runs for `lease`; after that another leg may take
    /// it over (and look the conference up first).
    public func claimBridge(
        organizationID: UUID, id: UUID, providerCallID: String, lease: Duration, logger: Logger
    ) async throws -> BridgeClaim {
        let leaseSeconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        return try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns), bridge_lease_until > now() FROM conferences
                WHERE organization_id = \(organizationID) AND id = \(id) FOR UPDATE
                """, logger: logger)
            var found: (Conference, Bool)?
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let conference = try Self.decode(columns)
                found = (conference, try columns[columns.count - 1].decode(Bool?.self) ?? false)
            }
            guard let (conference, leaseLive) = found else { return .unknown }
            let existing = try await connection.query(
                """
                SELECT 1 FROM conference_participants
                WHERE organization_id = \(organizationID) AND conference_id = \(id) AND provider_call_id = \(providerCallID)
                """, logger: logger)
            for try await _ in existing { return .alreadyBridged }
            if conference.status == "completed" || conference.endRequestedAt != nil { return .ended }
            // One bridge request at a time per session: a live lease is waited for, even by its own leg
            // (a duplicate delivery of the same event).
            if leaseLive { return .wait }
            try await connection.query(
                """
                UPDATE conferences SET bridge_lease_call = \(providerCallID),
                    bridge_lease_until = now() + make_interval(secs => \(leaseSeconds)), updated_at = now()
                WHERE organization_id = \(organizationID) AND id = \(id)
                """, logger: logger)
            if let providerConferenceID = conference.providerConferenceID { return .join(providerConferenceID: providerConferenceID) }
            return .create(name: conference.name, lookUpFirst: conference.bridgeLeaseCall != nil)
        }
    }

    /// Ends a lease early after its provider request failed, so the retry need not wait for it to run
    /// out; the claimant stays recorded (the request may have succeeded), so the next one looks first.
    public func releaseBridgeLease(organizationID: UUID, id: UUID, logger: Logger) async throws {
        try await client.query(
            """
            UPDATE conferences SET bridge_lease_until = NULL, updated_at = now()
            WHERE organization_id = \(organizationID) AND id = \(id)
            """, logger: logger)
    }

    /// Records what the provider did for a bridging leg: the conference's id (kept when one is
    /// already recorded), the lease released, and the leg as a participant (when given). Idempotent.
    public func recordBridge(
        organizationID: UUID, id: UUID, providerConferenceID: String?, participant: NewParticipant?, logger: Logger
    ) async throws {
        try await client.inTransaction(logger: logger) { connection in
            try await connection.query(
                """
                UPDATE conferences SET provider_conference_id = COALESCE(provider_conference_id, \(providerConferenceID)),
                    bridge_lease_until = NULL, updated_at = now()
                WHERE organization_id = \(organizationID) AND id = \(id)
                """, logger: logger)
            if let participant {
                _ = try await Self.addParticipant(
                    organizationID: organizationID, conferenceID: id, role: participant.role,
                    providerCallID: participant.providerCallID, clientID: participant.clientID, on: connection,
                    logger: logger)
            }
        }
    }

    /// The session a call is the contact's leg of.
    public func conferenceID(ofCall callID: UUID, organizationID: UUID, logger: Logger) async throws -> UUID? {
        let rows = try await client.query(
            "SELECT conference_id FROM calls WHERE organization_id = \(organizationID) AND id = \(callID)", logger: logger)
        for try await id in rows.decode(UUID?.self) { return id }
        return nil
    }

    /// Notes that an end was asked for, with the `cold_call.end` audit event in the same transaction.
    public func markEndRequested(organizationID: UUID, id: UUID, actor: Actor, logger: Logger) async throws {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE conferences SET end_requested_at = COALESCE(end_requested_at, now()), updated_at = now()
                WHERE organization_id = \(organizationID) AND id = \(id) RETURNING provider
                """, logger: logger)
            for try await provider in rows.decode(String.self) {
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: organizationID, actor: actor, action: "cold_call.end",
                        target: id.uuidString.lowercased(), details: ["provider": provider]),
                    on: connection, logger: logger)
            }
        }
    }

    /// Completes a session that never became a provider conference (nobody joined before the end).
    public func completeUnstarted(organizationID: UUID, id: UUID, logger: Logger) async throws {
        try await client.query(
            """
            UPDATE conferences SET status = 'completed', ended_at = COALESCE(ended_at, now()), updated_at = now()
            WHERE organization_id = \(organizationID) AND id = \(id) AND provider_conference_id IS NULL
            """, logger: logger)
    }

    /// A participant's mute/hold state as the provider's synchronous answer confirmed it (Telnyx sends
    /// no webhook for these), ordered like events by `sequence`.
    public struct ConfirmedState: Sendable {
        public var muted: Bool?
        public var onHold: Bool?
        public var sequence: Int64

        public init(muted: Bool?, onHold: Bool?, sequence: Int64) {
            self.muted = muted
            self.onHold = onHold
            self.sequence = sequence
        }
    }

    /// Records a mute/unmute/hold/unhold the provider accepted: its `cold_call.control` audit event
    /// and, when the provider's answer confirmed the state (`confirmed`), the participant's new state,
    /// in one transaction. Without `confirmed` (the state follows the provider's webhook) the audit
    /// event is the only write, one statement.
    public func recordControl(
        organizationID: UUID, conferenceID: UUID, participantID: UUID, action: String, provider: String,
        confirmed: ConfirmedState?, actor: Actor, logger: Logger
    ) async throws {
        let entry = AuditStore.Entry(
            organizationID: organizationID, actor: actor, action: "cold_call.control",
            target: conferenceID.uuidString.lowercased(),
            details: [
                "action": action, "participant_id": participantID.uuidString.lowercased(), "provider": provider,
                "state": confirmed == nil ? "requested" : "confirmed",
            ])
        try await client.inTransaction(logger: logger) { connection in
            if let confirmed {
                try await connection.query(
                    """
                    UPDATE conference_participants
                    SET muted = COALESCE(\(confirmed.muted), muted), on_hold = COALESCE(\(confirmed.onHold), on_hold),
                        state_sequence = \(confirmed.sequence), updated_at = now()
                    WHERE organization_id = \(organizationID) AND id = \(participantID)
                      AND state_sequence < \(confirmed.sequence)
                    """, logger: logger)
            }
            try await AuditStore.record(entry, on: connection, logger: logger)
        }
    }

    // MARK: - Provider events

    /// The outcome of applying a provider event.
    public enum EventOutcome: Sendable, Equatable {
        /// Seen before: nothing changed.
        case duplicate
        /// Stored; `conference` is the session after the event.
        case stored(conference: Conference?)
        /// No session of this organization matches: acknowledged, stored nowhere, nothing changed.
        case unmatched
    }

    /// Stores a conference event once and applies it to its session and participant.
    public func apply(_ event: ConferenceEventRecord, organizationID: UUID, logger: Logger) async throws -> EventOutcome {
        try await client.inTransaction(logger: logger) { connection in
            // Only a session of this organization takes the event (issue 10, item 12: with shared
            // credentials another tenant's event verifies here too); none stores it nowhere.
            guard
                var conference = try await Self.find(
                    organizationID: organizationID, provider: event.provider, id: event.conferenceID,
                    providerConferenceID: event.providerConferenceID, on: connection, logger: logger)
            else {
                logger.notice("conference event for no known session", metadata: ["event": "\(event.kind.rawValue)"])
                return .unmatched
            }
            guard
                try await Self.storeEvent(
                    organizationID: organizationID, provider: event.provider, eventKey: event.eventKey,
                    kind: "conference:" + event.kind.rawValue, providerCallID: event.providerCallID, payload: event.payload,
                    on: connection, logger: logger)
            else { return .duplicate }
            if let providerConferenceID = event.providerConferenceID, conference.providerConferenceID == nil {
                try await connection.query(
                    """
                    UPDATE conferences SET provider_conference_id = \(providerConferenceID), updated_at = now()
                    WHERE organization_id = \(organizationID) AND id = \(conference.id)
                      AND provider_conference_id IS NULL
                    """, logger: logger)
            }
            switch event.kind {
            case .conferenceStarted:
                try await connection.query(
                    """
                    UPDATE conferences SET started_at = COALESCE(started_at, \(event.occurredAt)),
                        status = CASE WHEN status = 'init' THEN 'in-progress' ELSE status END, updated_at = now()
                    WHERE organization_id = \(organizationID) AND id = \(conference.id)
                    """, logger: logger)
            case .conferenceEnded:
                try await connection.query(
                    """
                    UPDATE conferences SET status = 'completed', ended_at = COALESCE(ended_at, \(event.occurredAt)),
                        updated_at = now()
                    WHERE organization_id = \(organizationID) AND id = \(conference.id)
                    """, logger: logger)
                // Whoever the end removed has left, even if their own leave event is lost.
                try await connection.query(
                    """
                    UPDATE conference_participants SET left_at = \(event.occurredAt), updated_at = now()
                    WHERE organization_id = \(organizationID) AND conference_id = \(conference.id)
                      AND joined_at IS NOT NULL AND left_at IS NULL
                    """, logger: logger)
            case .participantJoined, .participantLeft, .participantUpdated:
                guard let providerCallID = event.providerCallID else { break }
                let role = try await Self.role(
                    organizationID: organizationID, conferenceID: conference.id, providerCallID: providerCallID,
                    on: connection, logger: logger)
                let participant = try await Self.addParticipant(
                    organizationID: organizationID, conferenceID: conference.id, role: role,
                    providerCallID: providerCallID, clientID: nil, on: connection, logger: logger)
                if event.kind == .participantJoined {
                    try await connection.query(
                        """
                        UPDATE conference_participants SET joined_at = COALESCE(joined_at, \(event.occurredAt)),
                            updated_at = now()
                        WHERE organization_id = \(organizationID) AND id = \(participant.id)
                        """, logger: logger)
                    // Someone joined a conference the provider reports as running.
                    try await connection.query(
                        """
                        UPDATE conferences SET started_at = COALESCE(started_at, \(event.occurredAt)),
                            status = CASE WHEN status = 'init' THEN 'in-progress' ELSE status END, updated_at = now()
                        WHERE organization_id = \(organizationID) AND id = \(conference.id)
                          AND \(event.provider) = 'telnyx'
                        """, logger: logger)
                }
                if event.kind == .participantLeft {
                    try await connection.query(
                        """
                        UPDATE conference_participants SET left_at = COALESCE(left_at, \(event.occurredAt)),
                            joined_at = COALESCE(joined_at, \(event.occurredAt)), updated_at = now()
                        WHERE organization_id = \(organizationID) AND id = \(participant.id)
                        """, logger: logger)
                }
                if event.muted != nil || event.onHold != nil {
                    try await connection.query(
                        """
                        UPDATE conference_participants
                        SET muted = COALESCE(\(event.muted), muted), on_hold = COALESCE(\(event.onHold), on_hold),
                            state_sequence = \(event.sequence), updated_at = now()
                        WHERE organization_id = \(organizationID) AND id = \(participant.id)
                          AND state_sequence < \(event.sequence)
                        """, logger: logger)
                }
            }
            conference =
                try await Self.find(
                    organizationID: organizationID, provider: event.provider, id: conference.id, providerConferenceID: nil,
                    on: connection, logger: logger) ?? conference
            return .stored(conference: conference)
        }
    }

    /// Stores a finished recording once, on the call it recorded: the one with its provider call id
    /// or leg id, else the contact call of the session its client state names.
    @discardableResult
    public func recordRecording(
        _ recording: RecordingRecord, organizationID: UUID, logger: Logger
    ) async throws -> RecordingOutcome {
        try await client.inTransaction(logger: logger) { connection in
            // The call first: a recording of no call of this organization is stored nowhere.
            let matched = try await connection.query(
                """
                SELECT id FROM calls
                WHERE organization_id = \(organizationID) AND provider = \(recording.provider)
                  AND (provider_call_id = \(recording.providerCallID) OR provider_leg_id = \(recording.providerLegID)
                       OR conference_id = \(recording.conferenceID)
                       OR conference_id = (SELECT id FROM conferences
                                           WHERE organization_id = \(organizationID) AND provider = \(recording.provider)
                                             AND provider_conference_id = \(recording.providerConferenceID)))
                FOR UPDATE
                """, logger: logger)
            var ids: [UUID] = []
            for try await id in matched.decode(UUID.self) { ids.append(id) }
            guard !ids.isEmpty else { return .unmatched }
            guard
                try await Self.storeEvent(
                    organizationID: organizationID, provider: recording.provider, eventKey: recording.eventKey,
                    kind: "recording", providerCallID: recording.providerCallID, payload: recording.payload,
                    on: connection, logger: logger)
            else { return .duplicate }
            try await connection.query(
                """
                UPDATE calls SET recording_id = \(recording.recordingID), recording_url = \(recording.url),
                    recording_duration_seconds = \(recording.durationSeconds), updated_at = now()
                WHERE organization_id = \(organizationID) AND id = ANY(\(ids))
                """, logger: logger)
            return .attached
        }
    }

    static func storeEvent(
        organizationID: UUID, provider: String, eventKey: String, kind: String, providerCallID: String?, payload: Data,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO webhook_events (organization_id, provider, event_key, kind, provider_call_id, payload)
            VALUES (\(organizationID), \(provider), \(eventKey), \(kind), \(providerCallID), \(payload))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: logger)
        for try await _ in inserted { return true }
        return false
    }

    static func find(
        organizationID: UUID, provider: String, id: UUID?, providerConferenceID: String?,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Conference? {
        if let id {
            let rows = try await connection.query(
                """
                SELECT \(unescaped: columns) FROM conferences
                WHERE organization_id = \(organizationID) AND id = \(id) AND provider = \(provider)
                """, logger: logger)
            if let found = try await decode(rows).first { return found }
        }
        guard let providerConferenceID else { return nil }
        let rows = try await connection.query(
            """
            SELECT \(unescaped: columns) FROM conferences
            WHERE organization_id = \(organizationID) AND provider = \(provider)
              AND provider_conference_id = \(providerConferenceID)
            """, logger: logger)
        return try await decode(rows).first
    }

    /// A leg Switchboard did not record itself: the contact's when it is the session's call, else the agent's.
    static func role(
        organizationID: UUID, conferenceID: UUID, providerCallID: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> String {
        let rows = try await connection.query(
            """
            SELECT 1 FROM calls WHERE organization_id = \(organizationID) AND conference_id = \(conferenceID)
              AND provider_call_id = \(providerCallID)
            """, logger: logger)
        for try await _ in rows { return "contact" }
        return "agent"
    }

    // MARK: - Call log

    /// Records (or replaces) the outcome of a cold call with its audit event (the outcome, never the
    /// notes); nil when no cold call has that id.
    public func recordOutcome(
        organizationID: UUID, callID: UUID, _ outcome: CallOutcomeRecord, actor: Actor, logger: Logger
    ) async throws -> ColdCallLogEntry? {
        let found = try await client.inTransaction(logger: logger) { connection -> Bool in
            let rows = try await connection.query(
                """
                UPDATE calls SET outcome = \(outcome.outcome), outcome_notes = \(outcome.notes),
                    callback_at = \(outcome.callbackAt), outcome_recorded_at = now(),
                    outcome_recorded_by = \(outcome.recordedBy), updated_at = now()
                WHERE organization_id = \(organizationID) AND id = \(callID) AND conference_id IS NOT NULL
                  AND status <> 'initiating'
                RETURNING id
                """, logger: logger)
            var found = false
            for try await _ in rows { found = true }
            guard found else { return false }
            try await OdooSyncStore.enqueueWriteBack(organizationID: organizationID, callID: callID, on: connection, logger: logger)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "call.outcome",
                    target: callID.uuidString.lowercased(), details: ["outcome": outcome.outcome]),
                on: connection, logger: logger)
            return true
        }
        guard found else { return nil }
        return try await logEntry(organizationID: organizationID, callID: callID, logger: logger)
    }

    /// One cold call as the call log shows it.
    public func logEntry(organizationID: UUID, callID: UUID, logger: Logger) async throws -> ColdCallLogEntry? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.logColumns) FROM calls c JOIN conferences f
              ON f.organization_id = c.organization_id AND f.id = c.conference_id
            WHERE c.organization_id = \(organizationID) AND c.id = \(callID) AND c.status <> 'initiating'
            """, logger: logger)
        return try await Self.decodeLog(rows).first
    }

    /// The call log, newest first; `cursor` is the (created_at, id) of the last entry of the previous page.
    public func log(
        organizationID: UUID, outcome: String?, after cursor: (Date, UUID)?, limit: Int, logger: Logger
    ) async throws -> [ColdCallLogEntry] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.logColumns) FROM calls c JOIN conferences f
              ON f.organization_id = c.organization_id AND f.id = c.conference_id
            WHERE c.organization_id = \(organizationID) AND c.conference_id IS NOT NULL AND c.status <> 'initiating'
              AND (\(outcome == nil) OR c.outcome = \(outcome ?? ""))
              AND (\(cursor == nil) OR (c.created_at, c.id) < (\(cursor?.0 ?? Date()), \(cursor?.1 ?? UUID())))
            ORDER BY c.created_at DESC, c.id DESC LIMIT \(limit)
            """, logger: logger)
        return try await Self.decodeLog(rows)
    }

    // MARK: - Telnyx telephony credentials

    /// The credential created earlier for this browser client, if any.
    public func telephonyCredential(
        organizationID: UUID, connectionID: String, clientID: String, logger: Logger
    ) async throws -> String? {
        let rows = try await client.query(
            """
            SELECT credential_id FROM telephony_credentials
            WHERE organization_id = \(organizationID) AND connection_id = \(connectionID) AND client_id = \(clientID)
            """, logger: logger)
        for try await id in rows.decode(String.self) { return id }
        return nil
    }

    /// Remembers (or replaces) the credential id for this browser client.
    public func saveTelephonyCredential(
        organizationID: UUID, connectionID: String, clientID: String, credentialID: String, logger: Logger
    ) async throws {
        try await client.query(
            """
            INSERT INTO telephony_credentials (organization_id, connection_id, client_id, credential_id)
            VALUES (\(organizationID), \(connectionID), \(clientID), \(credentialID))
            ON CONFLICT (organization_id, connection_id, client_id)
            DO UPDATE SET credential_id = EXCLUDED.credential_id, created_at = now()
            """, logger: logger)
    }

    // MARK: - Decoding

    static func decode(_ rows: PostgresRowSequence) async throws -> [Conference] {
        var conferences: [Conference] = []
        for try await row in rows.decode(
            (UUID, UUID, String, String, String?, String, UUID?, String?, String, String, String?, Date, Date?, Date?, Date?,
             String?, String?, Date?).self)
        {
            conferences.append(
                Conference(
                    organizationID: row.0, id: row.1, provider: row.2, name: row.3, providerConferenceID: row.4,
                    status: row.5, contactID: row.6, contactName: row.7, contactPhone: row.8, fromNumber: row.9,
                    agentClientID: row.10, createdAt: row.11, startedAt: row.12, endedAt: row.13, endRequestedAt: row.14,
                    endedReason: row.15, bridgeLeaseCall: row.16, bridgeLeaseUntil: row.17))
        }
        return conferences
    }

    /// A session from the first columns of a row (`columns` order).
    static func decode(_ c: PostgresRandomAccessRow) throws -> Conference {
        Conference(
            organizationID: try c[0].decode(UUID.self), id: try c[1].decode(UUID.self), provider: try c[2].decode(String.self),
            name: try c[3].decode(String.self), providerConferenceID: try c[4].decode(String?.self),
            status: try c[5].decode(String.self), contactID: try c[6].decode(UUID?.self),
            contactName: try c[7].decode(String?.self), contactPhone: try c[8].decode(String.self),
            fromNumber: try c[9].decode(String.self), agentClientID: try c[10].decode(String?.self),
            createdAt: try c[11].decode(Date.self), startedAt: try c[12].decode(Date?.self), endedAt: try c[13].decode(Date?.self),
            endRequestedAt: try c[14].decode(Date?.self), endedReason: try c[15].decode(String?.self),
            bridgeLeaseCall: try c[16].decode(String?.self), bridgeLeaseUntil: try c[17].decode(Date?.self))
    }

    static func decodeParticipants(_ rows: PostgresRowSequence) async throws -> [ConferenceParticipant] {
        var participants: [ConferenceParticipant] = []
        for try await row in rows.decode((UUID, UUID, UUID, String, String, String?, Bool, Bool, Date?, Date?).self) {
            participants.append(
                ConferenceParticipant(
                    organizationID: row.0, id: row.1, conferenceID: row.2, role: row.3, providerCallID: row.4,
                    clientID: row.5, muted: row.6, onHold: row.7, joinedAt: row.8, leftAt: row.9))
        }
        return participants
    }

    static let logColumns = """
        c.organization_id, c.id, c.provider, c.provider_call_id, c.status, c.raw_status, c.direction, c.from_number,
        c.to_number, c.workflow_id, c.workflow_run_id, c.duration_seconds, c.created_at, c.updated_at, c.answered_at,
        c.ended_at, f.id, f.status, f.contact_id, f.contact_name, f.contact_phone, f.agent_client_id, c.outcome,
        c.outcome_notes, c.callback_at, c.outcome_recorded_at, c.recording_url, c.recording_duration_seconds
        """

    static func decodeLog(_ rows: PostgresRowSequence) async throws -> [ColdCallLogEntry] {
        var entries: [ColdCallLogEntry] = []
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let call = Call(
                organizationID: try columns[0].decode(UUID.self), id: try columns[1].decode(UUID.self),
                provider: try columns[2].decode(String.self), providerCallID: try columns[3].decode(String?.self),
                status: try columns[4].decode(String.self), rawStatus: try columns[5].decode(String?.self),
                direction: try columns[6].decode(String.self), fromNumber: try columns[7].decode(String.self),
                toNumber: try columns[8].decode(String.self), workflowID: try columns[9].decode(String?.self),
                workflowRunID: try columns[10].decode(String?.self), durationSeconds: try columns[11].decode(Int?.self),
                createdAt: try columns[12].decode(Date.self), updatedAt: try columns[13].decode(Date.self),
                answeredAt: try columns[14].decode(Date?.self), endedAt: try columns[15].decode(Date?.self))
            entries.append(
                ColdCallLogEntry(
                    call: call, conferenceID: try columns[16].decode(UUID.self),
                    conferenceStatus: try columns[17].decode(String.self), contactID: try columns[18].decode(UUID?.self),
                    contactName: try columns[19].decode(String?.self), contactPhone: try columns[20].decode(String.self),
                    agentClientID: try columns[21].decode(String?.self), outcome: try columns[22].decode(String?.self),
                    outcomeNotes: try columns[23].decode(String?.self), callbackAt: try columns[24].decode(Date?.self),
                    outcomeRecordedAt: try columns[25].decode(Date?.self),
                    recordingURL: try columns[26].decode(String?.self),
                    recordingDurationSeconds: try columns[27].decode(Int?.self)))
        }
        return entries
    }
}

/// A leg to record while bridging.
public struct NewParticipant: Sendable {
    public var role: String
    public var providerCallID: String
    public var clientID: String?

    public init(role: String, providerCallID: String, clientID: String?) {
        self.role = role
        self.providerCallID = providerCallID
        self.clientID = clientID
    }
}
