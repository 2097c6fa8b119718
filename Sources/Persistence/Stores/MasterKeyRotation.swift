import Foundation
import Logging
import PostgresNIO

/// Re-seals every configuration row still under an older master key with the active one.
///
/// Each row is moved in its own transaction, so an interrupted run loses nothing and a re-run
/// picks up where it stopped. Documents and versions do not change.
public struct MasterKeyRotation: Sendable {
    /// What a run did.
    public struct Report: Sendable, Equatable {
        /// Rows whose current document was re-sealed.
        public var moved = 0
        /// Rows whose previous (grace-window) document was re-sealed.
        public var previousMoved = 0
        /// Previous documents erased because their grace window had ended.
        public var expiredErased = 0

        public init() {}
    }

    let client: PostgresClient
    let sealer: SecretSealer

    public init(client: PostgresClient, sealer: SecretSealer) {
        self.client = client
        self.sealer = sealer
    }

    /// Moves rows in batches of `batchSize`; stops after `maxRows` rows when given (a bounded run).
    public func run(batchSize: Int = 100, maxRows: Int? = nil, logger: Logger) async throws -> Report {
        var report = Report()
        report.expiredErased = try await ConfigurationStore(client: client, sealer: sealer)
            .purgeExpiredPreviousSecrets(logger: logger)
        let active = sealer.keyring.active.id
        var handled = 0
        while maxRows.map({ handled < $0 }) ?? true {
            let limit = min(batchSize, maxRows.map { $0 - handled } ?? batchSize)
            let rows = try await client.query(
                """
                SELECT organization_id, key FROM organization_configuration
                WHERE key_id <> \(active) OR (previous_key_id IS NOT NULL AND previous_key_id <> \(active))
                ORDER BY organization_id, key LIMIT \(limit)
                """, logger: logger)
            var batch: [(UUID, String)] = []
            for try await row in rows.decode((UUID, String).self) { batch.append(row) }
            if batch.isEmpty { break }
            for (organizationID, key) in batch {
                let (current, previous) = try await reseal(organizationID: organizationID, key: key, logger: logger)
                if current { report.moved += 1 }
                if previous { report.previousMoved += 1 }
                handled += 1
            }
            logger.info(
                "master key rotation progress",
                metadata: ["moved": "\(report.moved)", "previous_moved": "\(report.previousMoved)"])
        }
        return report
    }

    /// Re-seals one row under the active key; returns which slots moved.
    private func reseal(organizationID: UUID, key: String, logger: Logger) async throws -> (Bool, Bool) {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT sealed, key_id, previous_sealed, previous_key_id FROM organization_configuration
                WHERE organization_id = \(organizationID) AND key = \(key) FOR UPDATE
                """, logger: logger)
            var found: (Data, String, Data?, String?)?
            for try await row in rows.decode((Data, String, Data?, String?).self) { found = row }
            guard let (sealed, keyID, previousSealed, previousKeyID) = found else { return (false, false) }
            let active = sealer.keyring.active.id
            var newCurrent = SealedValue(keyID: keyID, bytes: sealed)
            var newPrevious = previousSealed.flatMap { bytes in previousKeyID.map { SealedValue(keyID: $0, bytes: bytes) } }
            let moveCurrent = keyID != active
            let movePrevious = newPrevious.map { $0.keyID != active } ?? false
            if moveCurrent {
                let document = try sealer.open(newCurrent, organizationID: organizationID, key: key)
                newCurrent = try sealer.seal(document, organizationID: organizationID, key: key)
            }
            if movePrevious, let previous = newPrevious {
                let document = try sealer.open(previous, organizationID: organizationID, key: key, slot: .previous)
                newPrevious = try sealer.seal(document, organizationID: organizationID, key: key, slot: .previous)
            }
            try await connection.query(
                """
                UPDATE organization_configuration
                SET sealed = \(newCurrent.bytes), key_id = \(newCurrent.keyID),
                    previous_sealed = \(newPrevious?.bytes), previous_key_id = \(newPrevious?.keyID)
                WHERE organization_id = \(organizationID) AND key = \(key)
                """, logger: logger)
            return (moveCurrent, movePrevious)
        }
    }
}
