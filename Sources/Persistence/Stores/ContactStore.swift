import Foundation
import Logging
import PostgresNIO

/// An organization's contacts in PostgreSQL, one per phone number; imports merge, never duplicate.
public struct ContactStore: Sendable {
    /// Rows per INSERT statement of an import (the arrays travel as one parameter each).
    static let importBatchSize = 2_000

    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    static let columns = "organization_id, id, name, phone_e164, company, notes, created_at, updated_at"

    /// Stores the valid rows of an import in one transaction, with its audit event.
    ///
    /// Rows sharing a phone number are merged first (`ContactFields.mergedByPhone`), then each
    /// number is inserted, or merged into the organization's stored contact of that number with
    /// the same rule: the stored values are kept, and only its empty fields are filled. The audit
    /// event holds counts only: `total_rows` and `rejected` describe the file as the caller read it.
    public func importContacts(
        organizationID: UUID, rows: [ContactFields], totalRows: Int, rejected: Int, actor: Actor, logger: Logger
    ) async throws -> ContactImportOutcome {
        // Sorted by number, so concurrent imports lock shared numbers in the same order (no deadlock).
        let unique = ContactFields.mergedByPhone(rows).rows.sorted { $0.phoneE164 < $1.phoneE164 }
        return try await client.inTransaction(logger: logger) { connection in
            var imported = 0
            var start = 0
            while start < unique.count {
                let batch = unique[start..<min(start + Self.importBatchSize, unique.count)]
                start += Self.importBatchSize
                imported += try await Self.upsert(organizationID: organizationID, batch, on: connection, logger: logger)
            }
            let outcome = ContactImportOutcome(imported: imported, merged: rows.count - imported)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "contacts.import", target: "contacts",
                    details: [
                        "imported": String(outcome.imported), "merged": String(outcome.merged),
                        "rejected": String(rejected), "total_rows": String(totalRows),
                    ]),
                on: connection, logger: logger)
            return outcome
        }
    }

    /// Inserts or merges one batch of rows with distinct phone numbers; returns how many were new.
    static func upsert(
        organizationID: UUID, _ batch: ArraySlice<ContactFields>, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        // Absent values travel as '' (arrays of optionals are not encodable) and become NULL again.
        let ids = batch.map { _ in UUID() }
        let names = batch.map { $0.name ?? "" }
        let phones = batch.map(\.phoneE164)
        let companies = batch.map { $0.company ?? "" }
        let notes = batch.map { $0.notes ?? "" }
        // An update only happens when it fills an empty field, so updated_at means "changed".
        // `xmax = 0` tells a freshly inserted row from one updated by ON CONFLICT; a row the
        // WHERE skipped is not returned at all, so only inserts are counted.
        let rows = try await connection.query(
            """
            INSERT INTO contacts (organization_id, id, name, phone_e164, company, notes)
            SELECT \(organizationID), r.id, NULLIF(r.name, ''), r.phone, NULLIF(r.company, ''), NULLIF(r.notes, '')
            FROM unnest(\(ids)::uuid[], \(names)::text[], \(phones)::text[], \(companies)::text[], \(notes)::text[])
                AS r (id, name, phone, company, notes)
            ON CONFLICT (organization_id, phone_e164) DO UPDATE
            SET name = COALESCE(contacts.name, excluded.name),
                company = COALESCE(contacts.company, excluded.company),
                notes = COALESCE(contacts.notes, excluded.notes),
                updated_at = now()
            WHERE (contacts.name IS NULL AND excluded.name IS NOT NULL)
               OR (contacts.company IS NULL AND excluded.company IS NOT NULL)
               OR (contacts.notes IS NULL AND excluded.notes IS NOT NULL)
            RETURNING xmax = 0
            """, logger: logger)
        var inserted = 0
        for try await isInsert in rows.decode(Bool.self) where isInsert { inserted += 1 }
        return inserted
    }

    /// One of the organization's contacts; nil when it has no such contact.
    public func get(organizationID: UUID, id: UUID, logger: Logger) async throws -> Contact? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM contacts WHERE organization_id = \(organizationID) AND id = \(id)",
            logger: logger)
        return try await Self.decode(rows).first
    }

    /// Newest first (`created_at`, then `id`, both descending; the rows of one import share a
    /// `created_at`); `cursor` is the (created_at in microseconds since 1970, id) of the last
    /// contact of the previous page. `search` keeps contacts whose name contains its text, ignoring
    /// case (Unicode-aware, through the ICU root collation, whatever the database's locale), or
    /// whose phone number contains its digits.
    public func list(
        organizationID: UUID, search: ContactSearch?, after cursor: (micros: Int64, id: UUID)?, limit: Int, logger: Logger
    ) async throws -> [Contact] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM contacts
            WHERE organization_id = \(organizationID)
              AND (\(search == nil)
                   OR strpos(lower(name COLLATE "und-x-icu"), lower(\(search?.text ?? "") COLLATE "und-x-icu")) > 0
                   OR (\(search?.digits != nil) AND strpos(phone_e164, \(search?.digits ?? "")) > 0))
              AND (\(cursor == nil)
                   OR (created_at, id) < (to_timestamp(\(Double(cursor?.micros ?? 0) / 1_000_000)), \(cursor?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Applies `changes` to a contact (audited by field name only); nil when the organization has no
    /// such contact, `.duplicate` when another of its contacts has the new phone number.
    public func update(organizationID: UUID, id: UUID, changes: ContactChanges, actor: Actor, logger: Logger)
        async throws -> Contact?
    {
        do {
            return try await client.inTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE contacts
                    SET name = CASE WHEN \(changes.name != nil) THEN \(changes.name ?? nil) ELSE name END,
                        phone_e164 = COALESCE(\(changes.phoneE164), phone_e164),
                        company = CASE WHEN \(changes.company != nil) THEN \(changes.company ?? nil) ELSE company END,
                        notes = CASE WHEN \(changes.notes != nil) THEN \(changes.notes ?? nil) ELSE notes END,
                        updated_at = now()
                    WHERE organization_id = \(organizationID) AND id = \(id)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger)
                guard let contact = try await Self.decode(rows).first else { return nil }
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: organizationID, actor: actor, action: "contact.update",
                        target: id.uuidString.lowercased(), details: ["fields": changes.fieldNames.joined(separator: ",")]),
                    on: connection, logger: logger)
                return contact
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            throw PersistenceError.duplicate("a contact with phone number \(changes.phoneE164 ?? "")")
        }
    }

    /// What an erased phone number reads as: the columns stay NOT NULL, the number is gone.
    public static let erasedPhone = ""

    /// Deletes a contact with its audit event; false when the organization has no such contact.
    ///
    /// In the same transaction the contact's personal data leaves the organization's cold-call
    /// history: its sessions (by contact or by phone) lose the name and phone, their calls the
    /// destination number, and the stored provider webhooks of those calls their raw payloads.
    /// The sessions, calls, outcomes and event keys (duplicate detection) stay.
    public func delete(organizationID: UUID, id: UUID, actor: Actor, logger: Logger) async throws -> Bool {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT phone_e164 FROM contacts WHERE organization_id = \(organizationID) AND id = \(id) FOR UPDATE
                """, logger: logger)
            var phone: String?
            for try await stored in rows.decode(String.self) { phone = stored }
            guard let phone else { return false }
            // Before the delete, which sets the sessions' contact_id to NULL.
            try await Self.erase(organizationID: organizationID, contactID: id, phone: phone, on: connection, logger: logger)
            try await connection.query(
                "DELETE FROM contacts WHERE organization_id = \(organizationID) AND id = \(id)", logger: logger)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "contact.delete",
                    target: id.uuidString.lowercased()),
                on: connection, logger: logger)
            return true
        }
    }

    /// Erases a contact's name and phone from the organization's sessions (those of the contact, and
    /// those dialled to its number by `to_phone`), their calls and those calls' stored webhook payloads.
    static func erase(
        organizationID: UUID, contactID: UUID, phone: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            WITH sessions AS (
                UPDATE conferences SET contact_name = NULL, contact_phone = \(erasedPhone), updated_at = now()
                WHERE organization_id = \(organizationID) AND (contact_id = \(contactID) OR contact_phone = \(phone))
                RETURNING id
            ), legs AS (
                UPDATE calls SET to_number = \(erasedPhone), updated_at = now()
                WHERE organization_id = \(organizationID) AND conference_id IN (SELECT id FROM sessions)
                RETURNING provider, provider_call_id, provider_leg_id
            )
            UPDATE webhook_events e SET payload = '\\x'::bytea
            FROM legs
            WHERE e.organization_id = \(organizationID) AND e.provider = legs.provider
              AND (e.provider_call_id = legs.provider_call_id OR e.provider_call_id = legs.provider_leg_id)
            """, logger: logger)
    }

    /// Contacts from rows selected or returned with `columns`.
    static func decode(_ rows: PostgresRowSequence) async throws -> [Contact] {
        var contacts: [Contact] = []
        for try await row in rows.decode((UUID, UUID, String?, String, String?, String?, Date, Date).self) {
            contacts.append(
                Contact(
                    organizationID: row.0, id: row.1, name: row.2, phoneE164: row.3, company: row.4, notes: row.5,
                    createdAt: row.6, updatedAt: row.7))
        }
        return contacts
    }
}
