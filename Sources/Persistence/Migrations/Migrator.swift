import Crypto
import Foundation
import Logging
import PostgresNIO

/// One numbered SQL file of `sql/`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// Hex SHA-256 of the file's bytes; an applied file must never change.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Why migrating stopped; nothing after the failing file was applied.
public enum MigrationError: Error, CustomStringConvertible {
    case unreadableDirectory(String)
    case malformedFileName(String)
    case duplicateVersion(Int)
    case editedAfterApply(version: Int, name: String)
    case missingFile(version: Int, name: String)
    case failed(version: Int, name: String, reason: String)

    public var description: String {
        switch self {
        case .unreadableDirectory(let path):
            "cannot read migrations directory '\(path)' (set SWITCHBOARD_MIGRATIONS_DIR)"
        case .malformedFileName(let name):
            "migration file '\(name)' must be named NNNN_description.sql"
        case .duplicateVersion(let version):
            "two migration files share version \(version)"
        case .editedAfterApply(let version, let name):
            "migration \(version) '\(name)' was edited after it was applied; never edit an applied migration, add a new numbered file instead"
        case .missingFile(let version, let name):
            "migration \(version) '\(name)' is applied in the database but missing from the migrations directory"
        case .failed(let version, let name, let reason):
            "migration \(version) '\(name)' failed and was rolled back: \(reason)"
        }
    }
}

/// Applies `sql/` in order, once, under an advisory lock so concurrent instances cannot race.
public struct Migrator: Sendable {
    /// Arbitrary constant identifying Switchboard's migration lock.
    static let advisoryLockID: Int64 = 0x5357_4254_4D49_4752

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Reads every `NNNN_name.sql` file of `directory`, sorted by version.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError.unreadableDirectory(directory.path)
        }
        var migrations: [Migration] = []
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            let stem = fileName.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"),
                let version = Int(stem[..<underscore]), version > 0,
                stem[..<underscore].count == 4
            else {
                throw MigrationError.malformedFileName(fileName)
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(fileName), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (earlier, later) in zip(migrations, migrations.dropFirst()) where earlier.version == later.version {
            throw MigrationError.duplicateVersion(later.version)
        }
        return migrations
    }

    /// Applies every pending migration, each in its own transaction; returns those applied.
    ///
    /// Refuses to do anything when an applied file was edited or removed.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> [Migration] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockID))", logger: logger)
            do {
                let applied = try await applyPending(migrations, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockID))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockID))", logger: logger)
                throw error
            }
        }
    }

    /// The migrations not yet applied; throws like `migrate` for edited or missing files.
    /// Read-only: a server checking at start-up needs no DDL rights and takes no lock.
    public func pending(_ migrations: [Migration]) async throws -> [Migration] {
        try await client.withConnection { connection in
            let exists = try await connection.query(
                "SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
            for try await present in exists.decode(Bool.self) where !present { return migrations }
            return try await pending(migrations, applied: appliedChecksums(on: connection))
        }
    }

    private func applyPending(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [Migration] {
        try await ensureTable(on: connection)
        let toApply = try pending(migrations, applied: await appliedChecksums(on: connection))
        for migration in toApply {
            do {
                try await connection.withTransaction(logger: logger) { connection in
                    for statement in SQLScript.statements(in: migration.sql) {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        """
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                        """, logger: logger)
                }
            } catch let error as PostgresTransactionError {
                let reason = (error.closureError as? PSQLError)?.serverInfo?[.message] ?? "database error"
                throw MigrationError.failed(version: migration.version, name: migration.name, reason: reason)
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
        }
        return toApply
    }

    private func ensureTable(on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
    }

    private func appliedChecksums(on connection: PostgresConnection) async throws -> [Int: (name: String, checksum: String)] {
        var applied: [Int: (name: String, checksum: String)] = [:]
        let rows = try await connection.query("SELECT version, name, checksum FROM schema_migrations", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            applied[version] = (name, checksum)
        }
        return applied
    }

    private func pending(
        _ migrations: [Migration], applied: [Int: (name: String, checksum: String)]
    ) throws -> [Migration] {
        let onDisk = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = onDisk[version] else {
                throw MigrationError.missingFile(version: version, name: record.name)
            }
            guard migration.checksum == record.checksum else {
                throw MigrationError.editedAfterApply(version: version, name: migration.name)
            }
        }
        return migrations.filter { applied[$0.version] == nil }
    }
}
