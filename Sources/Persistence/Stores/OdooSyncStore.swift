import Foundation
import Logging
import PostgresNIO

/// A partner from Odoo, ready to merge into the contacts: its phone already in E.164.
public struct SyncedPartner: Sendable, Equatable {
    public let partnerID: Int64
    public let name: String?
    public let phoneE164: String
    public let company: String?

    public init(partnerID: Int64, name: String?, phoneE164: String, company: String?) {
        self.partnerID = partnerID
        self.name = name
        self.phoneE164 = phoneE164
        self.company = company
    }
}

/// What merging one page of partners did.
public struct SyncPageOutcome: Sendable, Equatable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    /// Partners not merged, with why (e.g. their number belongs to another contact).
    public var skipped: [(partnerID: Int64, reason: String)] = []

    public init() {}

    public static func == (left: SyncPageOutcome, right: SyncPageOutcome) -> Bool {
        left.created == right.created && left.updated == right.updated && left.unchanged == right.unchanged
            && left.skipped.map(\.partnerID) == right.skipped.map(\.partnerID)
            && left.skipped.map(\.reason) == right.skipped.map(\.reason)
    }
}

/// One Odoo sync as its history shows it.
public struct OdooSyncRun: Sendable, Equatable {
    public let id: UUID
    public let trigger: String
    public let status: String
    public let sinceWriteDate: String?
    public let watermark: String?
    public let created: Int
    public let updated: Int
    public let unchanged: Int
    public let skipped: Int
    public let failed: Int
    /// reason -> count, as JSON text.
    public let skippedReasons: String
    /// [{"partner_id", "reason"}] for the first few skipped or failed partners, as JSON text.
    public let problems: String
    public let error: String?
    public let startedAt: Date
    public let finishedAt: Date?
}

/// The counts a finished run records.
public struct OdooSyncTotals: Sendable {
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var skipped = 0
    public var failed = 0
    public var skippedReasons: [String: Int] = [:]
    public var problems: [(partnerID: Int64, reason: String)] = []
    /// The newest write_date seen (the next run's start).
    public var watermark: String?

    /// At most this many partners are listed by id in `problems`.
    public static let maximumProblems = 50

    public init() {}

    /// Counts a skipped partner under `reason`.
    public mutating func skip(_ partnerID: Int64, reason: String, failed isFailure: Bool = false) {
        if isFailure { failed += 1 } else { skipped += 1 }
        let key = reason.count > 80 ? String(reason.prefix(80)) : reason
        if !isFailure { skippedReasons[key, default: 0] += 1 }
        if problems.count < Self.maximumProblems { problems.append((partnerID, reason)) }
    }
}

/// Odoo contact sync in PostgreSQL: the run history, the one-sync-at-a-time lock, and merging
/// partners into contacts by partner id first and phone number second.
public struct OdooSyncStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Advisory-lock namespace of Odoo syncs (the second key is derived from the organization id).
    static let lockNamespace: Int32 = 0x0D00_5C01

    /// Runs `body` holding the organization's sync lock (a session advisory lock on one pooled
    /// connection, released when `body` ends or the connection dies); nil, without running `body`,
    /// when another sync of the organization holds it, on this instance or any other.
    public func withSyncLock<Result: Sendable>(
        organizationID: UUID, logger: Logger, _ body: () async throws -> Result
    ) async throws -> Result? {
        try await client.withConnection { connection in
            let key = Self.lockKey(organizationID)
            let rows = try await connection.query(
                "SELECT pg_try_advisory_lock(\(Self.lockNamespace), \(key))", logger: logger)
            var acquired = false
            for try await flag in rows.decode(Bool.self) { acquired = flag }
            guard acquired else { return nil }
            do {
                let result = try await body()
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockNamespace), \(key))", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockNamespace), \(key))", logger: logger)
                throw error
            }
        }
    }

    static func lockKey(_ id: UUID) -> Int32 {
        let bytes = id.uuid
        return Int32(bitPattern: UInt32(bytes.12) << 24 | UInt32(bytes.13) << 16 | UInt32(bytes.14) << 8 | UInt32(bytes.15))
    }

    /// Records the start of a run; returns its id.
    public func startRun(organizationID: UUID, trigger: String, since: String?, startedBy: UUID?, logger: Logger)
        async throws -> UUID
    {
        let id = UUID()
        try await client.query(
            """
            INSERT INTO odoo_sync_runs (organization_id, id, trigger, since_write_date, started_by)
            VALUES (\(organizationID), \(id), \(trigger), \(since), \(startedBy))
            """, logger: logger)
        return id
    }

    /// Records how a run ended, with its audit event when `audit` is given (manual syncs).
    public func finishRun(
        organizationID: UUID, id: UUID, totals: OdooSyncTotals, error: String?, audit actor: Actor?, logger: Logger
    ) async throws -> OdooSyncRun {
        let reasons = String(decoding: try JSONEncoder().encode(totals.skippedReasons), as: UTF8.self)
        let problems = String(
            decoding: try JSONSerialization.data(
                withJSONObject: totals.problems.map { ["partner_id": Int($0.partnerID), "reason": $0.reason] as [String: Any] }),
            as: UTF8.self)
        let status = error == nil ? "succeeded" : "failed"
        return try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE odoo_sync_runs SET status = \(status), watermark = \(totals.watermark),
                    created = \(totals.created), updated = \(totals.updated), unchanged = \(totals.unchanged),
                    skipped = \(totals.skipped), failed = \(totals.failed), skipped_reasons = \(reasons)::jsonb,
                    problems = \(problems)::jsonb, error = \(error), finished_at = now()
                WHERE organization_id = \(organizationID) AND id = \(id)
                RETURNING \(unescaped: Self.runColumns)
                """, logger: logger)
            guard let run = try await Self.decodeRuns(rows).first else { throw PersistenceError.notFound("sync run") }
            if let actor {
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: organizationID, actor: actor, action: "contacts.sync.odoo",
                        target: id.uuidString.lowercased(),
                        details: [
                            "status": status, "created": String(totals.created), "updated": String(totals.updated),
                            "unchanged": String(totals.unchanged), "skipped": String(totals.skipped),
                            "failed": String(totals.failed),
                        ]),
                    on: connection, logger: logger)
            }
            return run
        }
    }

    /// The watermark the next run starts from: the newest write_date a succeeded run saw.
    public func lastWatermark(organizationID: UUID, logger: Logger) async throws -> String? {
        let rows = try await client.query(
            """
            SELECT max(watermark) FROM odoo_sync_runs
            WHERE organization_id = \(organizationID) AND status = 'succeeded'
            """, logger: logger)
        for try await value in rows.decode(String?.self) { return value }
        return nil
    }

    /// When the organization's latest run started; nil when it never synced.
    public func lastRunStart(organizationID: UUID, logger: Logger) async throws -> Date? {
        let rows = try await client.query(
            "SELECT max(started_at) FROM odoo_sync_runs WHERE organization_id = \(organizationID)", logger: logger)
        for try await value in rows.decode(Date?.self) { return value }
        return nil
    }

    /// Marks runs left `running` by a process that died as failed (only runs whose lock nobody holds).
    public func failAbandonedRuns(organizationID: UUID, logger: Logger) async throws {
        try await client.query(
            """
            UPDATE odoo_sync_runs SET status = 'failed', error = 'the sync stopped before it finished', finished_at = now()
            WHERE organization_id = \(organizationID) AND status = 'running'
            """, logger: logger)
    }

    /// The organization's runs, newest first.
    public func runs(organizationID: UUID, limit: Int, logger: Logger) async throws -> [OdooSyncRun] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.runColumns) FROM odoo_sync_runs WHERE organization_id = \(organizationID)
            ORDER BY started_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        return try await Self.decodeRuns(rows)
    }

    /// The organizations that have an `ODOO_CONFIGURATION`.
    public func configuredOrganizations(logger: Logger) async throws -> [UUID] {
        let rows = try await client.query(
            """
            SELECT c.organization_id FROM organization_configuration c JOIN organizations o ON o.id = c.organization_id
            WHERE c.key = 'ODOO_CONFIGURATION' AND o.disabled_at IS NULL
            """, logger: logger)
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }

    static let runColumns = """
        id, trigger, status, since_write_date, watermark, created, updated, unchanged, skipped, failed,
        skipped_reasons::text, problems::text, error, started_at, finished_at
        """

    static func decodeRuns(_ rows: PostgresRowSequence) async throws -> [OdooSyncRun] {
        var runs: [OdooSyncRun] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            runs.append(
                OdooSyncRun(
                    id: try c[0].decode(UUID.self), trigger: try c[1].decode(String.self), status: try c[2].decode(String.self),
                    sinceWriteDate: try c[3].decode(String?.self), watermark: try c[4].decode(String?.self),
                    created: Int(try c[5].decode(Int32.self)), updated: Int(try c[6].decode(Int32.self)),
                    unchanged: Int(try c[7].decode(Int32.self)), skipped: Int(try c[8].decode(Int32.self)),
                    failed: Int(try c[9].decode(Int32.self)), skippedReasons: try c[10].decode(String.self),
                    problems: try c[11].decode(String.self), error: try c[12].decode(String?.self),
                    startedAt: try c[13].decode(Date.self), finishedAt: try c[14].decode(Date?.self)))
        }
        return runs
    }

    // MARK: - Merging partners into contacts

    /// Merges one page of partners (distinct partner ids) into the organization's contacts in one
    /// transaction: a contact with the partner's id is updated to Odoo's values (an empty Odoo value
    /// never clears one); otherwise a contact with the partner's number is linked to the partner; otherwise
    /// a contact is created. A partner whose number belongs to another Odoo-linked contact, or to a
    /// contact another partner of this page claimed, is skipped. Nothing is ever deleted.
    public func merge(organizationID: UUID, page: [SyncedPartner], logger: Logger) async throws -> SyncPageOutcome {
        try await client.inTransaction(logger: logger) { connection in
            var outcome = SyncPageOutcome()
            let partnerIDs = page.map { $0.partnerID }
            let phones = page.map { $0.phoneE164 }
            let rows = try await connection.query(
                """
                SELECT id, odoo_partner_id, phone_e164, name, company FROM contacts
                WHERE organization_id = \(organizationID)
                  AND (odoo_partner_id = ANY(\(partnerIDs)::bigint[]) OR phone_e164 = ANY(\(phones)::text[]))
                ORDER BY id FOR UPDATE
                """, logger: logger)
            struct Existing {
                var id: UUID
                var partnerID: Int64?
                var phone: String
                var name: String?
                var company: String?
            }
            var byPartner: [Int64: Existing] = [:]
            var byPhone: [String: Existing] = [:]
            for try await (id, partnerID, phone, name, company) in rows.decode((UUID, Int64?, String, String?, String?).self) {
                let existing = Existing(id: id, partnerID: partnerID, phone: phone, name: name, company: company)
                if let partnerID { byPartner[partnerID] = existing }
                byPhone[phone] = existing
            }
            var claimedPhones: [String: Int64] = [:]
            var updates: [(id: UUID, partnerID: Int64, phone: String, name: String?, company: String?)] = []
            var inserts: [SyncedPartner] = []
            for partner in page {
                if let other = claimedPhones[partner.phoneE164] {
                    outcome.skipped.append((partner.partnerID, "phone number shared with partner \(other) of the same sync"))
                    continue
                }
                let holder = byPhone[partner.phoneE164]
                if let current = byPartner[partner.partnerID] {
                    if let holder, holder.id != current.id {
                        outcome.skipped.append((partner.partnerID, "phone number belongs to another contact"))
                        continue
                    }
                    let name = partner.name ?? current.name
                    let company = partner.company ?? current.company
                    claimedPhones[partner.phoneE164] = partner.partnerID
                    if name == current.name, company == current.company, partner.phoneE164 == current.phone {
                        outcome.unchanged += 1
                    } else {
                        updates.append((current.id, partner.partnerID, partner.phoneE164, name, company))
                        outcome.updated += 1
                    }
                } else if let holder {
                    if let linked = holder.partnerID, linked != partner.partnerID {
                        outcome.skipped.append((partner.partnerID, "phone number belongs to the contact of partner \(linked)"))
                        continue
                    }
                    claimedPhones[partner.phoneE164] = partner.partnerID
                    updates.append(
                        (holder.id, partner.partnerID, partner.phoneE164, partner.name ?? holder.name, partner.company ?? holder.company))
                    outcome.updated += 1
                } else {
                    claimedPhones[partner.phoneE164] = partner.partnerID
                    inserts.append(partner)
                    outcome.created += 1
                }
            }
            if !updates.isEmpty {
                try await connection.query(
                    """
                    UPDATE contacts c SET odoo_partner_id = u.partner, phone_e164 = u.phone,
                        name = NULLIF(u.name, ''), company = NULLIF(u.company, ''), updated_at = now()
                    FROM unnest(\(updates.map { $0.id })::uuid[], \(updates.map { $0.partnerID })::bigint[],
                                \(updates.map { $0.phone })::text[], \(updates.map { $0.name ?? "" })::text[],
                                \(updates.map { $0.company ?? "" })::text[]) AS u (id, partner, phone, name, company)
                    WHERE c.organization_id = \(organizationID) AND c.id = u.id
                    """, logger: logger)
            }
            if !inserts.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO contacts (organization_id, id, name, phone_e164, company, odoo_partner_id)
                    SELECT \(organizationID), r.id, NULLIF(r.name, ''), r.phone, NULLIF(r.company, ''), r.partner
                    FROM unnest(\(inserts.map { _ in UUID() })::uuid[], \(inserts.map { $0.name ?? "" })::text[],
                                \(inserts.map { $0.phoneE164 })::text[], \(inserts.map { $0.company ?? "" })::text[],
                                \(inserts.map { $0.partnerID })::bigint[]) AS r (id, name, phone, company, partner)
                    """, logger: logger)
            }
            return outcome
        }
    }

    /// The Odoo partner id of each of the organization's contacts among `ids` that has one.
    public func partnerIDs(organizationID: UUID, contactIDs: [UUID], logger: Logger) async throws -> [UUID: Int64] {
        let rows = try await client.query(
            """
            SELECT id, odoo_partner_id FROM contacts
            WHERE organization_id = \(organizationID) AND id = ANY(\(contactIDs)::uuid[]) AND odoo_partner_id IS NOT NULL
            """, logger: logger)
        var result: [UUID: Int64] = [:]
        for try await (id, partner) in rows.decode((UUID, Int64).self) { result[id] = partner }
        return result
    }

    // MARK: - Write-back

    /// Outbox kind of an outcome to post on an Odoo partner's chatter.
    public static let writeBackKind = "odoo.write_back"

    /// In the transaction that records a cold call's outcome: queues its write-back to Odoo when the
    /// call's contact came from Odoo and the organization's `ODOO_CONFIGURATION` has `write_back` on.
    /// The payload is the outcome as it stands now (outcome, notes, duration, agent, recording link).
    public static func enqueueWriteBack(
        organizationID: UUID, callID: UUID, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO outbox (organization_id, id, kind, payload)
            SELECT c.organization_id, \(UUID()), \(writeBackKind),
                jsonb_build_object(
                    'call_id', c.id, 'partner_id', ct.odoo_partner_id, 'outcome', c.outcome,
                    'notes', c.outcome_notes, 'callback_at', c.callback_at, 'duration_seconds', c.duration_seconds,
                    'agent', COALESCE((SELECT k.name FROM api_keys k WHERE k.id = c.outcome_recorded_by), f.agent_client_id),
                    'recording_url', c.recording_url, 'recorded_at', c.outcome_recorded_at, 'to', c.to_number)
            FROM calls c
            JOIN conferences f ON f.organization_id = c.organization_id AND f.id = c.conference_id
            JOIN contacts ct ON ct.organization_id = f.organization_id AND ct.id = f.contact_id
            JOIN organization_configuration oc ON oc.organization_id = c.organization_id AND oc.key = 'ODOO_CONFIGURATION'
            WHERE c.organization_id = \(organizationID) AND c.id = \(callID) AND c.outcome IS NOT NULL
              AND ct.odoo_partner_id IS NOT NULL AND (oc.public ->> 'write_back') = 'true'
            """, logger: logger)
    }
}
