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
        /// The event names no call of this organization (another tenant's, or none): acknowledged,
        /// stored nowhere, nothing changed.
        case unmatched
    }

    /// SQL condition (parameters `$1` organization, `$2` provider): the organization has a call of
    /// that provider still being placed, whose provider id is not recorded yet.
    static let initiatingCallExists = """
        EXISTS (SELECT 1 FROM calls WHERE organization_id = $1 AND provider = $2 AND status = 'initiating'
                AND created_at > now() - interval '5 minutes')
        """

    let client: PostgresClient
    /// An `initiating` row older than this was interrupted: the provider's deadline plus
    /// `staleMargin` has passed, so no request can still be waiting to record its answer.
    public let staleInitiatingAfter: Duration

    /// Added to the provider deadline: the database steps around the provider request (taking a
    /// pooled connection, `markPlaced`'s lock) wait up to seconds each under load.
    public static let staleMargin: Duration = .seconds(60)

    /// How long an Idempotency-Key names its call: 24 hours, then the key may be used afresh.
    public static let idempotencyKeyLifetimeSeconds = 24 * 3600

    /// `providerTimeout` is the deadline of every provider request (`SWITCHBOARD_PROVIDER_TIMEOUT_MS`);
    /// the default is its largest allowed value, so a store built without it never sweeps early.
    public init(client: PostgresClient, providerTimeout: Duration = .seconds(120)) {
        self.client = client
        staleInitiatingAfter = providerTimeout + Self.staleMargin
    }

    /// `staleInitiatingAfter` in whole seconds, rounded up.
    var staleAfterSeconds: Int {
        let (seconds, attoseconds) = staleInitiatingAfter.components
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }

    /// Serializes work on one provider call across transactions, so an event recorded while the
    /// call is being marked placed is never missed by both.
    static func lockProviderCall(
        organizationID: UUID, provider: String, providerCallID: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let name = "\(organizationID.uuidString.lowercased())|\(provider)|\(providerCallID)"
        for try await _ in try await connection.execute(HotPathStatements.ProviderCallLock(name: name), logger: logger) {}
    }

    static let columns = """
        organization_id, id, provider, provider_call_id, status, raw_status, direction, from_number, to_number,
        workflow_id, workflow_run_id, duration_seconds, created_at, updated_at, answered_at, ended_at
        """
    typealias Columns = (
        UUID, UUID, String, String?, String, String?, String, String, String, String?, String?, Int?, Date, Date, Date?,
        Date?
    )

    /// A call from its row, in `columns` order.
    static func makeCall(_ row: Columns) -> Call {
        Call(
            organizationID: row.0, id: row.1, provider: row.2, providerCallID: row.3, status: row.4, rawStatus: row.5,
            direction: row.6, fromNumber: row.7, toNumber: row.8, workflowID: row.9, workflowRunID: row.10,
            durationSeconds: row.11, createdAt: row.12, updatedAt: row.13, answeredAt: row.14, endedAt: row.15)
    }

    /// Records a call as `initiating` before the provider is asked, or finds the earlier call of
    /// the same Idempotency-Key (`.conflict` when that key came with a different request).
    ///
    /// With `new.limits`, a new call is admitted only within them (`.rateLimited` otherwise); a
    /// replay of an earlier call is never refused for them.
    public func begin(organizationID: UUID, call new: NewCall, logger: Logger) async throws -> Begin {
        let id = UUID()
        if let limits = new.limits {
            if let started = try await beginWithin(limits, organizationID: organizationID, id: id, call: new, logger: logger) {
                return .started(started)
            }
        } else {
            for try await row in try await client.execute(
                HotPathStatements.BeginCall(organizationID: organizationID, id: id, call: new), logger: logger)
            {
                return .started(Self.makeCall(row))
            }
        }
        // An attempt that never finished (the process died between asking the provider and
        // recording its answer) must not hold its key forever: after the provider's deadline it
        // counts as unconfirmed.
        try await client.query(
            """
            UPDATE calls SET status = 'failed', raw_status = \(CallRowState.unconfirmed.rawValue), updated_at = now()
            WHERE organization_id = \(organizationID) AND idempotency_key = \(new.idempotencyKey)
              AND status = \(CallRowState.initiating.rawValue)
              AND created_at < now() - make_interval(secs => \(staleAfterSeconds))
            """, logger: logger)
        // Keys expire: a call older than `idempotencyKeyLifetime` gives its key up (the call stays),
        // so a client reusing a key a day later places a new call instead of getting a 409.
        try await client.query(
            """
            UPDATE calls SET idempotency_key = NULL
            WHERE organization_id = \(organizationID) AND idempotency_key = \(new.idempotencyKey)
              AND created_at < now() - make_interval(secs => \(Self.idempotencyKeyLifetimeSeconds))
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
        if call.status == CallRowState.initiating.rawValue {
            throw PersistenceError.conflict("the request with this Idempotency-Key is still in progress; retry shortly")
        }
        return .replay(call)
    }

    /// Inserts the call if the organization is within `limits`; nil when its Idempotency-Key is
    /// taken (the caller replays). One transaction under the organization's call-limit lock: two
    /// instances counting at once would both see room for the last call.
    func beginWithin(_ limits: CallLimits, organizationID: UUID, id: UUID, call new: NewCall, logger: Logger)
        async throws -> Call?
    {
        try await client.inTransaction(logger: logger) { connection -> Call? in
            let lock = "call-limits|\(organizationID.uuidString.lowercased())"
            for try await _ in try await connection.execute(HotPathStatements.ProviderCallLock(name: lock), logger: logger) {}
            let rows = try await connection.query(
                """
                SELECT
                    EXISTS (SELECT 1 FROM calls WHERE organization_id = \(organizationID)
                            AND idempotency_key = \(new.idempotencyKey)),
                    (SELECT count(*) FROM calls WHERE organization_id = \(organizationID)
                            AND created_at > clock_timestamp() - interval '60 seconds'),
                    (SELECT ceil(extract(epoch FROM min(created_at) + interval '60 seconds' - clock_timestamp()))::int8
                       FROM calls WHERE organization_id = \(organizationID)
                            AND created_at > clock_timestamp() - interval '60 seconds'),
                    (SELECT count(*) FROM calls WHERE organization_id = \(organizationID)
                            AND switchboard_call_status_rank(status) < 4
                            AND created_at > clock_timestamp() - make_interval(secs => \(CallLimits.liveWindowSeconds)))
                """, logger: logger)
            var counts: (keyTaken: Bool, lastMinute: Int, minuteFreesIn: Int?, live: Int) = (false, 0, nil, 0)
            for try await row in rows.decode((Bool, Int, Int?, Int).self) { counts = row }
            if counts.keyTaken { return nil }
            if counts.lastMinute >= limits.perMinute {
                throw PersistenceError.rateLimited(
                    "the organization's CALL_POLICY allows \(limits.perMinute) calls a minute; retry later",
                    retryAfterSeconds: max(1, counts.minuteFreesIn ?? 1))
            }
            if counts.live >= limits.concurrent {
                throw PersistenceError.rateLimited(
                    "the organization's CALL_POLICY allows \(limits.concurrent) calls at once; retry when one has ended",
                    retryAfterSeconds: Self.concurrentRetryAfterSeconds)
            }
            for try await row in try await connection.execute(
                HotPathStatements.BeginCall(organizationID: organizationID, id: id, call: new), logger: logger)
            {
                return Self.makeCall(row)
            }
            return nil
        }
    }

    /// What a caller over `max_concurrent_calls` is told to wait: calls end on their own time.
    static let concurrentRetryAfterSeconds = 5

    /// The provider accepted the call: records its id and status, then applies any of its events
    /// that arrived before this (providers can call back before their own API answer is read).
    ///
    /// Only a row still `initiating` moves: one the sweeper already resolved (this answer came
    /// later than the deadline it allows) is returned as it stands.
    ///
    /// `audit`, when given, is written in the same transaction (a cold call's `cold_call.initiate`).
    public func markPlaced(
        organizationID: UUID, id: UUID, providerCallID: String, status: String, rawStatus: String,
        audit: AuditStore.Entry? = nil, logger: Logger
    ) async throws -> Call {
        // Four round trips: the lock (taken where the call's provider is read), the update with the
        // call's early events, and the transaction's BEGIN and COMMIT; a fifth only when events came
        // early, and one more with an audit event.
        try await client.inTransaction(logger: logger) { connection in
            var locked = false
            for try await _ in try await connection.execute(
                HotPathStatements.LockPlacedCall(organizationID: organizationID, id: id, providerCallID: providerCallID),
                logger: logger)
            {
                locked = true
            }
            guard locked else { throw PersistenceError.notFound("call") }
            if let audit { try await AuditStore.record(audit, on: connection, logger: logger) }
            var placed: (call: Call, earlyStatus: String?, earlyRaw: String?, duration: Int?)?
            for try await (row, earlyStatus, earlyRaw, duration) in try await connection.execute(
                HotPathStatements.PlaceCall(
                    organizationID: organizationID, id: id, providerCallID: providerCallID, status: status,
                    rawStatus: rawStatus),
                logger: logger)
            {
                placed = (Self.makeCall(row), earlyStatus, earlyRaw, duration)
            }
            guard let placed else {
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM calls WHERE organization_id = \(organizationID) AND id = \(id)
                    """, logger: logger)
                guard let current = try await Self.decode(rows).first else { throw PersistenceError.notFound("call") }
                logger.warning(
                    "provider answer arrived after the call was resolved; left as it is",
                    metadata: ["call_id": .string(id.uuidString.lowercased()), "status": .string(current.status)])
                return current
            }
            if let earlyStatus = placed.earlyStatus,
                let updated = try await Self.advance(
                    organizationID: organizationID, provider: placed.call.provider, providerCallID: providerCallID,
                    status: earlyStatus, rawStatus: placed.earlyRaw, durationSeconds: placed.duration, on: connection,
                    logger: logger)
            {
                return updated
            }
            return placed.call
        }
    }

    /// The provider refused the call: it was never placed, so its row (and its key) goes.
    public func abandon(organizationID: UUID, id: UUID, logger: Logger) async throws {
        try await client.query(
            """
            DELETE FROM calls
            WHERE organization_id = \(organizationID) AND id = \(id) AND status = \(CallRowState.initiating.rawValue)
            """,
            logger: logger)
    }

    /// The provider did not say whether it placed the call (timeout, unreadable answer): the row
    /// stays as `failed`/`unconfirmed`, keeping its Idempotency-Key so a retry cannot dial twice.
    /// `audit`, when given, is written in the same transaction.
    public func markUnconfirmed(
        organizationID: UUID, id: UUID, audit: AuditStore.Entry? = nil, logger: Logger
    ) async throws {
        try await client.inTransaction(logger: logger) { connection in
            try await connection.query(
                """
                UPDATE calls SET status = 'failed', raw_status = \(CallRowState.unconfirmed.rawValue), updated_at = now(),
                    ended_at = now()
                WHERE organization_id = \(organizationID) AND id = \(id) AND status = \(CallRowState.initiating.rawValue)
                """, logger: logger)
            if let audit { try await AuditStore.record(audit, on: connection, logger: logger) }
        }
    }

    /// Resolves up to `limit` calls left `initiating` longer than `staleInitiatingAfter` (the
    /// request that placed them died, or could not record the provider's answer): each becomes
    /// `failed`/`unconfirmed`, keeping its Idempotency-Key, and a cold-call session that never
    /// started with it is completed. Oldest first; rows another transaction holds are skipped.
    public func sweepStaleInitiating(limit: Int, logger: Logger) async throws -> [Call] {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE calls SET status = 'failed', raw_status = \(CallRowState.unconfirmed.rawValue), updated_at = now(),
                    ended_at = now()
                WHERE (organization_id, id) IN (
                    SELECT organization_id, id FROM calls
                    WHERE status = \(CallRowState.initiating.rawValue)
                      AND created_at < now() - make_interval(secs => \(staleAfterSeconds))
                    ORDER BY created_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            let swept = try await Self.decode(rows)
            try await connection.query(
                """
                UPDATE conferences c SET status = 'completed', ended_at = COALESCE(c.ended_at, now()), updated_at = now()
                FROM calls k
                WHERE k.organization_id = c.organization_id AND k.conference_id = c.id
                  AND (k.organization_id, k.id) IN (SELECT * FROM unnest(\(swept.map(\.organizationID))::uuid[], \(swept.map(\.id))::uuid[]))
                  AND c.status = 'init' AND c.provider_conference_id IS NULL
                """, logger: logger)
            return swept
        }
    }

    /// One of the organization's calls.
    public func get(organizationID: UUID, id: UUID, logger: Logger) async throws -> Call? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM calls WHERE organization_id = \(organizationID) AND id = \(id)",
            logger: logger)
        return try await Self.decode(rows).first
    }

    /// The organization's call of `provider` that a provider names by its call id or its second id.
    public func find(
        organizationID: UUID, provider: String, providerCallID: String?, legID: String?, logger: Logger
    ) async throws -> Call? {
        guard providerCallID != nil || legID != nil else { return nil }
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM calls
            WHERE organization_id = \(organizationID) AND provider = \(provider)
              AND (provider_call_id = \(providerCallID) OR provider_leg_id = \(providerCallID)
                   OR provider_call_id = \(legID) OR provider_leg_id = \(legID))
            LIMIT 1
            """, logger: logger)
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
            WHERE organization_id = \(organizationID) AND status <> \(CallRowState.initiating.rawValue)
              AND (\(status == nil) OR status = \(status ?? ""))
              AND (\(cursor == nil) OR (created_at, id) < (\(cursor?.0 ?? Date()), \(cursor?.1 ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Stores a webhook once and moves its call forward (never backwards); duplicates change nothing.
    ///
    /// An event of a provider call takes the call's lock (as `markPlaced` does), then one prepared
    /// statement (`HotPathStatements.RecordEvent`) stores the event and — only when it is new —
    /// moves the call forward (or fills in a missing duration) and returns the call: four round
    /// trips in all, where a statement per step took six. The lock is its own statement so the
    /// second one's snapshot is taken after it: a `markPlaced` that committed while we waited is seen.
    public func record(_ event: RecordedEvent, organizationID: UUID, logger: Logger) async throws -> EventOutcome {
        guard let providerCallID = event.providerCallID else {
            // No call to move, and none to match: such an event is stored nowhere.
            return .unmatched
        }
        return try await client.inTransaction(logger: logger) { connection in
            try await Self.lockProviderCall(
                organizationID: organizationID, provider: event.provider, providerCallID: providerCallID,
                on: connection, logger: logger)
            let rows = try await connection.execute(
                HotPathStatements.RecordEvent(organizationID: organizationID, providerCallID: providerCallID, event: event),
                logger: logger)
            for try await row in rows {
                guard row.1 else { return .unmatched }
                guard row.0 else { return .duplicate }
                guard let organization = row.2, let id = row.3, let provider = row.4, let status = row.6,
                    let direction = row.8, let from = row.9, let to = row.10, let createdAt = row.14, let updatedAt = row.15
                else { return .stored(call: nil) }
                return .stored(
                    call: Call(
                        organizationID: organization, id: id, provider: provider, providerCallID: row.5, status: status,
                        rawStatus: row.7, direction: direction, fromNumber: from, toNumber: to, workflowID: row.11,
                        workflowRunID: row.12, durationSeconds: row.13, createdAt: createdAt, updatedAt: updatedAt,
                        answeredAt: row.16, endedAt: row.17))
            }
            throw PersistenceError.notFound("the webhook event's outcome")
        }
    }

    /// The provider's second id for a call (Plivo's live `CallUUID`), once a callback named it.
    public func providerLegID(organizationID: UUID, id: UUID, logger: Logger) async throws -> String? {
        let rows = try await client.query(
            "SELECT provider_leg_id FROM calls WHERE organization_id = \(organizationID) AND id = \(id)", logger: logger)
        for try await legID in rows.decode(String?.self) { return legID }
        return nil
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
