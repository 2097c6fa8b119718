import Foundation
import Logging
import PostgresNIO

/// Per-organization configuration documents, sealed at rest, versioned, with a rotation grace window.
public struct ConfigurationStore: Sendable {
    let client: PostgresClient
    let sealer: SecretSealer

    public init(client: PostgresClient, sealer: SecretSealer) {
        self.client = client
        self.sealer = sealer
    }

    static let columns = """
        organization_id, key, public::text, version, created_at, updated_at, updated_by,
        CASE WHEN previous_valid_until > now() THEN previous_valid_until END
        """
    typealias Columns = (UUID, String, String, Int64, Date, Date, UUID?, Date?)

    /// Every stored document of the organization (masked rows only; nothing is opened).
    public func list(organizationID: UUID, logger: Logger) async throws -> [StoredConfiguration] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM organization_configuration
            WHERE organization_id = \(organizationID) ORDER BY key
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// One stored document's row (masked; nothing is opened).
    public func get(organizationID: UUID, key: String, logger: Logger) async throws -> StoredConfiguration? {
        let rows = try await client.execute(
            HotPathStatements.ConfigurationByKey(organizationID: organizationID, key: key), logger: logger)
        for try await row in rows { return Self.makeStored(row) }
        return nil
    }

    /// Every document of the organization, opened (for provider resolution).
    public func openAll(organizationID: UUID, logger: Logger) async throws -> [OpenedConfiguration] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns), sealed, key_id,
                   CASE WHEN previous_valid_until > now() THEN previous_sealed END, previous_key_id
            FROM organization_configuration WHERE organization_id = \(organizationID) ORDER BY key
            """, logger: logger)
        return try await openRows(rows)
    }

    /// One document, opened.
    public func open(organizationID: UUID, key: String, logger: Logger) async throws -> OpenedConfiguration? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns), sealed, key_id,
                   CASE WHEN previous_valid_until > now() THEN previous_sealed END, previous_key_id
            FROM organization_configuration WHERE organization_id = \(organizationID) AND key = \(key)
            """, logger: logger)
        return try await openRows(rows).first
    }

    /// A document the write needs is not stored (checked inside the write's transaction).
    public struct RequiredConfigurationMissing: Error, Equatable {
        public let key: String
    }

    /// Another document names the one to delete (checked inside the delete's transaction).
    public struct ConfigurationInUse: Error, Equatable {
        public let key: String
        public let referencedBy: String
    }

    /// A document that may name another: `names` gets its masked (public) JSON.
    public struct Reference: Sendable {
        public let key: String
        public let names: @Sendable (Data) -> Bool

        public init(key: String, names: @escaping @Sendable (Data) -> Bool) {
            self.key = key
            self.names = names
        }
    }

    /// Creates or replaces a document.
    ///
    /// In one transaction: locks the row, checks `ifMatch` against its version (`.versionMismatch`
    /// when stale or absent; `.versionRequired` when `ifMatchRequired` and the document exists but
    /// no `ifMatch` came), checks that `requiredKey` is stored (`RequiredConfigurationMissing`; its
    /// row is share-locked, so a concurrent delete of it waits for this write and then sees it),
    /// hands the opened current document (nil when new) to `makeWrite`, seals what it returns,
    /// bumps the version and records the audit event.
    public func put(
        organizationID: UUID, key: String, ifMatch: Int64?, ifMatchRequired: Bool = false, requiring requiredKey: String? = nil,
        actor: Actor, logger: Logger, makeWrite: (Data?) throws -> ConfigurationWrite
    ) async throws -> StoredConfiguration {
        do {
            return try await client.inTransaction(logger: logger) { connection in
                let current = try await lockedRow(organizationID: organizationID, key: key, on: connection, logger: logger)
                try Self.check(ifMatch: ifMatch, required: ifMatchRequired, against: current?.version)
                if let requiredKey {
                    var stored = false
                    for try await _ in try await connection.query(
                        """
                        SELECT 1 FROM organization_configuration
                        WHERE organization_id = \(organizationID) AND key = \(requiredKey) FOR SHARE
                        """, logger: logger)
                    {
                        stored = true
                    }
                    guard stored else { throw RequiredConfigurationMissing(key: requiredKey) }
                }
                let currentDocument = try current.map { row in
                    try sealer.open(row.sealed, organizationID: organizationID, key: key)
                }
                let write = try makeWrite(currentDocument)
                let sealed = try sealer.seal(write.document, organizationID: organizationID, key: key)
                let rows: PostgresRowSequence
                if current == nil {
                    rows = try await connection.query(
                        """
                        INSERT INTO organization_configuration
                            (organization_id, key, public, sealed, key_id, version, updated_by)
                        VALUES (\(organizationID), \(key), \(write.publicDocument)::jsonb, \(sealed.bytes), \(sealed.keyID),
                                1, \(actor.keyID))
                        RETURNING \(unescaped: Self.columns)
                        """, logger: logger)
                } else {
                    rows = try await connection.query(
                        """
                        UPDATE organization_configuration
                        SET public = \(write.publicDocument)::jsonb, sealed = \(sealed.bytes), key_id = \(sealed.keyID),
                            version = version + 1, updated_at = now(), updated_by = \(actor.keyID),
                            previous_sealed = CASE WHEN \(write.clearsPrevious) THEN NULL ELSE previous_sealed END,
                            previous_key_id = CASE WHEN \(write.clearsPrevious) THEN NULL ELSE previous_key_id END,
                            previous_valid_until = CASE WHEN \(write.clearsPrevious) THEN NULL ELSE previous_valid_until END
                        WHERE organization_id = \(organizationID) AND key = \(key)
                        RETURNING \(unescaped: Self.columns)
                        """, logger: logger)
                }
                guard let stored = try await Self.decode(rows).first else {
                    throw PersistenceError.conflict("the configuration changed concurrently; retry")
                }
                var details = write.auditDetails
                details["version"] = String(stored.version)
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: organizationID, actor: actor,
                        action: current == nil ? "configuration.create" : "configuration.update", target: key,
                        details: details),
                    on: connection, logger: logger)
                try await ConfigurationChangeFeed.notify(organizationID: organizationID, on: connection, logger: logger)
                return stored
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            // Two first writes of the same key raced; the loser is told to retry.
            throw PersistenceError.conflict("the configuration was created concurrently; retry with If-Match")
        }
    }

    /// Deletes a document (honouring `ifMatch`; `.versionRequired` without one when
    /// `ifMatchRequired`), previous secret included. With `reference`, the delete is refused
    /// (`ConfigurationInUse`) while that document names this one — read after this row is locked,
    /// so a concurrent write of the reference that requires this row is either seen or sees it gone.
    public func delete(
        organizationID: UUID, key: String, ifMatch: Int64?, ifMatchRequired: Bool = false, unless reference: Reference? = nil,
        actor: Actor, logger: Logger
    ) async throws {
        try await client.inTransaction(logger: logger) { connection in
            guard let current = try await lockedRow(organizationID: organizationID, key: key, on: connection, logger: logger)
            else {
                if let ifMatch { throw PersistenceError.versionMismatch(expected: ifMatch, actual: nil) }
                throw PersistenceError.notFound("configuration \(key)")
            }
            try Self.check(ifMatch: ifMatch, required: ifMatchRequired, against: current.version)
            if let reference {
                for try await document in try await connection.query(
                    """
                    SELECT public::text FROM organization_configuration
                    WHERE organization_id = \(organizationID) AND key = \(reference.key)
                    """, logger: logger
                ).decode(String.self) where reference.names(Data(document.utf8)) {
                    throw ConfigurationInUse(key: key, referencedBy: reference.key)
                }
            }
            try await connection.query(
                "DELETE FROM organization_configuration WHERE organization_id = \(organizationID) AND key = \(key)",
                logger: logger)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "configuration.delete", target: key,
                    details: ["version": String(current.version)]),
                on: connection, logger: logger)
            try await ConfigurationChangeFeed.notify(organizationID: organizationID, on: connection, logger: logger)
        }
    }

    /// Rotates a document's secrets: `makeWrite` gets the current document and returns the new one;
    /// the current one becomes the previous, valid for `grace` seconds (0 = gone at once).
    public func rotate(
        organizationID: UUID, key: String, ifMatch: Int64?, grace: TimeInterval, actor: Actor, logger: Logger,
        makeWrite: (Data) throws -> ConfigurationWrite
    ) async throws -> StoredConfiguration {
        try await client.inTransaction(logger: logger) { connection in
            guard let current = try await lockedRow(organizationID: organizationID, key: key, on: connection, logger: logger)
            else {
                if let ifMatch { throw PersistenceError.versionMismatch(expected: ifMatch, actual: nil) }
                throw PersistenceError.notFound("configuration \(key)")
            }
            try Self.check(ifMatch: ifMatch, against: current.version)
            let currentDocument = try sealer.open(current.sealed, organizationID: organizationID, key: key)
            let write = try makeWrite(currentDocument)
            let sealed = try sealer.seal(write.document, organizationID: organizationID, key: key)
            let previous =
                grace > 0
                ? try sealer.seal(currentDocument, organizationID: organizationID, key: key, slot: .previous) : nil
            let graceSeconds = Int64(grace.rounded())
            let rows = try await connection.query(
                """
                UPDATE organization_configuration
                SET public = \(write.publicDocument)::jsonb, sealed = \(sealed.bytes), key_id = \(sealed.keyID),
                    previous_sealed = \(previous?.bytes), previous_key_id = \(previous?.keyID),
                    previous_valid_until = CASE WHEN \(previous != nil)
                        THEN now() + make_interval(secs => \(graceSeconds)) END,
                    version = version + 1, updated_at = now(), updated_by = \(actor.keyID)
                WHERE organization_id = \(organizationID) AND key = \(key)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let stored = try await Self.decode(rows).first else {
                throw PersistenceError.notFound("configuration \(key)")
            }
            var details = write.auditDetails
            details["version"] = String(stored.version)
            details["previous_valid_until"] = stored.previousValidUntil.map { $0.ISO8601Format() } ?? "none"
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "configuration.rotate", target: key,
                    details: details),
                on: connection, logger: logger)
            try await ConfigurationChangeFeed.notify(organizationID: organizationID, on: connection, logger: logger)
            return stored
        }
    }

    /// Records the outcome of a live credential check (`error` nil when the provider accepted them),
    /// with the `configuration.validate` audit event in the same transaction (the result, never the
    /// error's text); nil, and nothing written, when the key is not configured.
    public func recordValidation(
        organizationID: UUID, key: String, error: String?, actor: Actor, logger: Logger
    ) async throws -> Date? {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE organization_configuration SET validated_at = now(), validation_error = \(error)
                WHERE organization_id = \(organizationID) AND key = \(key) RETURNING validated_at
                """, logger: logger)
            var validatedAt: Date?
            for try await at in rows.decode(Date.self) { validatedAt = at }
            guard let validatedAt else { return nil }
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "configuration.validate", target: key,
                    details: ["result": error == nil ? "ok" : "failed"]),
                on: connection, logger: logger)
            return validatedAt
        }
    }

    /// Erases previous secrets whose grace window has ended; returns how many.
    @discardableResult
    public func purgeExpiredPreviousSecrets(logger: Logger) async throws -> Int {
        let rows = try await client.query(
            """
            UPDATE organization_configuration
            SET previous_sealed = NULL, previous_key_id = NULL, previous_valid_until = NULL
            WHERE previous_valid_until <= now()
            RETURNING 1
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    struct LockedRow {
        let version: Int64
        let sealed: SealedValue
    }

    func lockedRow(organizationID: UUID, key: String, on connection: PostgresConnection, logger: Logger) async throws
        -> LockedRow?
    {
        let rows = try await connection.query(
            """
            SELECT version, sealed, key_id FROM organization_configuration
            WHERE organization_id = \(organizationID) AND key = \(key) FOR UPDATE
            """, logger: logger)
        for try await (version, sealed, keyID) in rows.decode((Int64, Data, String).self) {
            return LockedRow(version: version, sealed: SealedValue(keyID: keyID, bytes: sealed))
        }
        return nil
    }

    static func check(ifMatch: Int64?, required: Bool = false, against version: Int64?) throws {
        guard let ifMatch else {
            if required, let version { throw PersistenceError.versionRequired(current: version) }
            return
        }
        guard let version, version == ifMatch else {
            throw PersistenceError.versionMismatch(expected: ifMatch, actual: version)
        }
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [StoredConfiguration] {
        var result: [StoredConfiguration] = []
        for try await row in rows.decode(Columns.self) {
            result.append(makeStored(row))
        }
        return result
    }

    static func makeStored(_ row: Columns) -> StoredConfiguration {
        StoredConfiguration(
            organizationID: row.0, key: row.1, publicDocument: row.2, version: row.3, createdAt: row.4,
            updatedAt: row.5, updatedBy: row.6, previousValidUntil: row.7)
    }

    func openRows(_ rows: PostgresRowSequence) async throws -> [OpenedConfiguration] {
        var result: [OpenedConfiguration] = []
        for try await row in rows.decode(
            (UUID, String, String, Int64, Date, Date, UUID?, Date?, Data, String, Data?, String?).self)
        {
            let stored = Self.makeStored((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7))
            let document = try sealer.open(
                SealedValue(keyID: row.9, bytes: row.8), organizationID: stored.organizationID, key: stored.key)
            var previousDocument: Data?
            if let previousSealed = row.10, let previousKeyID = row.11 {
                previousDocument = try sealer.open(
                    SealedValue(keyID: previousKeyID, bytes: previousSealed), organizationID: stored.organizationID,
                    key: stored.key, slot: .previous)
            }
            result.append(OpenedConfiguration(stored: stored, document: document, previousDocument: previousDocument))
        }
        return result
    }
}
