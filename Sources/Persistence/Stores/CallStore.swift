import Foundation
import Logging
import PostgresNIO

/// Calls and provider webhook events in PostgreSQL; any instance can process any webhook.
public struct CallStore: Sendable {
    /// The outcome of starting a call.
    public enum Begin: Sendable, Equatable {
        /// A new row: ask the provider now.
        case started(Call)
        /// The Idempotency-Key was seen before with the same request: answer with this call.
        case replay(Call)
    }

    /// The outcome of recording a webhook.
    public enum EventOutcome: Sendable, Equatable {
        /// Seen before: acknowledged, nothing changed.
        case duplicate
        /// Stored; `call` is the call after the event (nil when no call matches yet).
        case stored(call: Call?)
    }

    let client: PostgresClient

    /// An `initiating` row older than this was interrupted (well past any provider deadline).
    static let staleAfterSeconds = 120

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Serializes work on one provider call across transactions, so an event recorded while the
    /// call is being marked placed is never missed by both.
    static func lockProviderCall(
        organizationID: UUID, provider: String, providerCallID: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let name = "\(organizationID.uuidString.lowercased())|\(provider)|\(providerCallID)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(name), 0))", logger: logger)
    }

    static let columns = """
        organization_id, id, provider, provider_call_id, status, raw_status, direction, from_number, to_number,
        workflow_id, workflow_run_id, duration_seconds, created_at, updated_at, answered_at, ended_at
        """

    /// Records a call as `initiating` before the provider is asked, or finds the earlier call of
    /// the same Idempotency-Key (`.conflict` when that key came with a different request).
    public func begin(organizationID: UUID, call new: NewCall, logger: Logger) async throws -> Begin {
        let id = UUID()
        let rows = try await client.query(
            """
            INSERT INTO calls (organization_id, id, provider, status, from_number, to_number, workflow_id,
                               workflow_run_id, idempotency_key, request_hash, created_by, conference_id)
            VALUES (\(organizationID), \(id), \(new.provider), 'initiating', \(new.fromNumber), \(new.toNumber),
                    \(new.workflowID), \(new.workflowRunID), \(new.idempotencyKey), \(new.requestHash), \(new.createdBy),
                    \(new.conferenceID))
            ON CONFLICT (organization_id, idempotency_key) DO NOTHING
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        if let call = try await Self.decode(rows).first { return .started(call) }
        // An attempt that never finished (the process died between asking the provider and
        // recording its answer) must not hold its key forever: after the provider's deadline it
        // counts as unconfirmed.
        try await client.query(
            """
            UPDATE calls SET status = 'failed', raw_status = 'unconfirmed', updated_at = now()
            WHERE organization_id = \(organizationID) AND idempotency_key = \(new.idempotencyKey)
              AND status = 'initiating' AND created_at < now() - make_interval(secs => \(Self.staleAfterSeconds))
            """, logger: logger)
        let again = try await client.query(
            """
            SELECT request_hash FROM calls
            WHERE organization_id = \(organizationID) AND idempotency_key = \(new.idempotencyKey)
            """, logger: logger)
        var storedHash: String?
        var found = false
        for try await hash in again.decode(String?.self) {
            storedHash = hash
            found = true
        }
        if !found {
            // The earlier attempt was abandoned between our insert and this read: the key is free again.
            return try await begin(organizationID: organizationID, call: new, logger: logger)
        }
        guard storedHash == new.requestHash else {
            throw PersistenceError.conflict("this Idempotency-Key was used for a different request")
        }
        guard let call = try await get(organizationID: organizationID, idempotencyKey: new.idempotencyKey, logger: logger)
        else {
            throw PersistenceError.conflict("the earlier request with this Idempotency-Key failed; retry")
        }
        if call.status == "initiating" {
            throw PersistenceError.conflict("the request with this Idempotency-Key is still in progress; retry shortly")
        }
        return .replay(call)
    }

    /// The provider accepted the call: records its id and status, then applies any of its events
    /// that arrived before this (providers can call back before their own API answer is read).
    public func markPlaced(
        organizationID: UUID, id: UUID, providerCallID: String, status: String, rawStatus: String, logger: Logger
    ) async throws -> Call {
        try await client.inTransaction(logger: logger) { connection in
            let provider = try await Self.provider(ofCall: id, organizationID: organizationID, on: connection, logger: logger)
            try await Self.lockProviderCall(
                organizationID: organizationID, provider: provider, providerCallID: providerCallID, on: connection,
                logger: logger)
            let rows = try await connection.query(
                """
                UPDATE calls SET provider_call_id = \(providerCallID), status = \(status), raw_status = \(rawStatus),
                                 updated_at = now()
                WHERE organization_id = \(organizationID) AND id = \(id)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let call = try await Self.decode(rows).first else { throw PersistenceError.notFound("call") }
            let early = try await connection.query(
                """
                SELECT status, raw_status, (SELECT max(duration_seconds) FROM webhook_events
                    WHERE organization_id = \(organizationID) AND provider = \(call.provider)
                      AND provider_call_id = \(providerCallID))
                FROM webhook_events
                WHERE organization_id = \(organizationID) AND provider = \(call.provider)
                  AND provider_call_id = \(providerCallID) AND status IS NOT NULL
                ORDER BY switchboard_call_status_rank(status) DESC, received_at DESC LIMIT 1
                """, logger: logger)
            for try await (earlyStatus, earlyRaw, duration) in early.decode((String, String?, Int?).self) {
                if let updated = try await Self.advance(
                    organizationID: organizationID, provider: call.provider, providerCallID: providerCallID,
                    status: earlyStatus, rawStatus: earlyRaw, durationSeconds: duration, on: connection, logger: logger)
                {
                    return updated
                }
            }
            return call
        }
    }

    /// The provider refused the call: it was never placed, so its row (and its key) goes.
    public func abandon(organizationID: UUID, id: UUID, logger: Logger) async throws {
        try await client.query(
            "DELETE FROM calls WHERE organization_id = \(organizationID) AND id = \(id) AND status = 'initiating'",
            logger: logger)
    }

    /// The provider did not say whether it placed the call (timeout, unreadable answer): the row
    /// stays as `failed`/`unconfirmed`, keeping its Idempotency-Key so a retry cannot dial twice.
    public func markUnconfirmed(organizationID: UUID, id: UUID, logger: Logger) async throws {
        try await client.query(
            """
            UPDATE calls SET status = 'failed', raw_status = 'unconfirmed', updated_at = now(), ended_at = now()
            WHERE organization_id = \(organizationID) AND id = \(id) AND status = 'initiating'
            """, logger: logger)
    }

    static func provider(ofCall id: UUID, organizationID: UUID, on connection: PostgresConnection, logger: Logger)
        async throws -> String
    {
        let rows = try await connection.query(
            "SELECT provider FROM calls WHERE organization_id = \(organizationID) AND id = \(id)", logger: logger)
        for try await provider in rows.decode(String.self) { return provider }
        throw PersistenceError.notFound("call")
    }

    /// One of the organization's calls.
    public func get(organizationID: UUID, id: UUID, logger: Logger) async throws -> Call? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM calls WHERE organization_id = \(organizationID) AND id = \(id)",
            logger: logger)
        return try await Self.decode(rows).first
    }

    func get(organizationID: UUID, idempotencyKey: String?, logger: Logger) async throws -> Call? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM calls
            WHERE organization_id = \(organizationID) AND idempotency_key = \(idempotencyKey)
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Newest first; `cursor` is the (created_at, id) of the last call of the previous page.
    public func list(
        organizationID: UUID, status: String?, after cursor: (Date, UUID)?, limit: Int, logger: Logger
    ) async throws -> [Call] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM calls
            WHERE organization_id = \(organizationID) AND status <> 'initiating'
              AND (\(status == nil) OR status = \(status ?? ""))
              AND (\(cursor == nil) OR (created_at, id) < (\(cursor?.0 ?? Date()), \(cursor?.1 ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Stores a webhook once and moves its call forward (never backwards); duplicates change nothing.
    public func record(_ event: RecordedEvent, organizationID: UUID, logger: Logger) async throws -> EventOutcome {
        try await client.inTransaction(logger: logger) { connection in
            if let providerCallID = event.providerCallID {
                try await Self.lockProviderCall(
                    organizationID: organizationID, provider: event.provider, providerCallID: providerCallID,
                    on: connection, logger: logger)
            }
            let inserted = try await connection.query(
                """
                INSERT INTO webhook_events (organization_id, provider, event_key, kind, provider_call_id, status,
                                            raw_status, duration_seconds, payload)
                VALUES (\(organizationID), \(event.provider), \(event.eventKey), \(event.kind), \(event.providerCallID),
                        \(event.status), \(event.rawStatus), \(event.durationSeconds), \(event.payload))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger)
            var isNew = false
            for try await _ in inserted { isNew = true }
            guard isNew else { return .duplicate }
            guard let providerCallID = event.providerCallID else { return .stored(call: nil) }
            if let status = event.status,
                let call = try await Self.advance(
                    organizationID: organizationID, provider: event.provider, providerCallID: providerCallID,
                    status: status, rawStatus: event.rawStatus, durationSeconds: event.durationSeconds, on: connection,
                    logger: logger)
            {
                return .stored(call: call)
            }
            if let duration = event.durationSeconds {
                try await connection.query(
                    """
                    UPDATE calls SET duration_seconds = \(duration), updated_at = now()
                    WHERE organization_id = \(organizationID) AND provider = \(event.provider)
                      AND provider_call_id = \(providerCallID) AND duration_seconds IS NULL
                    """, logger: logger)
            }
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM calls
                WHERE organization_id = \(organizationID) AND provider = \(event.provider)
                  AND provider_call_id = \(providerCallID)
                """, logger: logger)
            return .stored(call: try await Self.decode(rows).first)
        }
    }

    /// Moves the call to `status` when that is further along its lifecycle; returns the updated call.
    static func advance(
        organizationID: UUID, provider: String, providerCallID: String, status: String, rawStatus: String?,
        durationSeconds: Int?, on connection: PostgresConnection, logger: Logger
    ) async throws -> Call? {
        let rows = try await connection.query(
            """
            UPDATE calls SET status = \(status), raw_status = \(rawStatus), updated_at = now(),
                duration_seconds = COALESCE(\(durationSeconds), duration_seconds),
                answered_at = CASE
                    WHEN \(status) = 'in-progress' THEN COALESCE(answered_at, now())
                    -- A completed call that talked was answered, even if that event never came.
                    WHEN \(status) = 'completed' AND answered_at IS NULL AND COALESCE(\(durationSeconds), 0) > 0
                        THEN now() - make_interval(secs => \(durationSeconds))
                    ELSE answered_at END,
                ended_at = CASE WHEN switchboard_call_status_rank(\(status)) = 4 THEN now() ELSE ended_at END
            WHERE organization_id = \(organizationID) AND provider = \(provider) AND provider_call_id = \(providerCallID)
              AND switchboard_call_status_rank(status) < 4
              AND switchboard_call_status_rank(status) < switchboard_call_status_rank(\(status))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        return try await decode(rows).first
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [Call] {
        var calls: [Call] = []
        for try await row in rows.decode(
            (UUID, UUID, String, String?, String, String?, String, String, String, String?, String?, Int?, Date, Date, Date?, Date?)
                .self)
        {
            calls.append(
                Call(
                    organizationID: row.0, id: row.1, provider: row.2, providerCallID: row.3, status: row.4,
                    rawStatus: row.5, direction: row.6, fromNumber: row.7, toNumber: row.8, workflowID: row.9,
                    workflowRunID: row.10, durationSeconds: row.11, createdAt: row.12, updatedAt: row.13,
                    answeredAt: row.14, endedAt: row.15))
        }
        return calls
    }
}
