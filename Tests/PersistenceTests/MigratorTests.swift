import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@Suite struct MigratorTests {
    let logger = TestDatabase.logger

    func writeMigrations(_ files: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, sql) in files {
            try sql.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test func appliesTheRepositorysMigrationsOnceAndInOrder() async throws {
        try await TestDatabase.withEmptyDatabase { configuration in
            try await TestDatabase.withClient(configuration) { client in
                let migrations = try Migrator.load(from: TestDatabase.migrationsDirectory)
                #expect(migrations.map(\.version) == migrations.map(\.version).sorted())
                let first = try await Migrator(client: client, logger: logger).migrate(migrations)
                let second = try await Migrator(client: client, logger: logger).migrate(migrations)
                #expect(first.count == migrations.count)
                #expect(second.isEmpty)
                let rows = try await client.query("SELECT count(*) FROM schema_migrations", logger: logger)
                for try await count in rows.decode(Int.self) { #expect(count == migrations.count) }
            }
        }
    }

    @Test func refusesAnAppliedMigrationThatWasEdited() async throws {
        try await TestDatabase.withEmptyDatabase { configuration in
            try await TestDatabase.withClient(configuration) { client in
                let directory = try writeMigrations(["0001_one.sql": "CREATE TABLE one (id int);"])
                try await Migrator(client: client, logger: logger).migrate(Migrator.load(from: directory))
                try "CREATE TABLE one (id bigint);".write(
                    to: directory.appendingPathComponent("0001_one.sql"), atomically: true, encoding: .utf8)
                try "CREATE TABLE two (id int);".write(
                    to: directory.appendingPathComponent("0002_two.sql"), atomically: true, encoding: .utf8)
                let error = await #expect(throws: MigrationError.self) {
                    try await Migrator(client: client, logger: logger).migrate(Migrator.load(from: directory))
                }
                #expect(error?.description.contains("was edited after it was applied") == true)
                // Nothing after the refusal ran.
                let rows = try await client.query("SELECT to_regclass('two') IS NULL", logger: logger)
                for try await absent in rows.decode(Bool.self) { #expect(absent) }
            }
        }
    }

    @Test func rollsBackAFailingMigrationWhole() async throws {
        try await TestDatabase.withEmptyDatabase { configuration in
            try await TestDatabase.withClient(configuration) { client in
                let directory = try writeMigrations([
                    "0001_ok.sql": "CREATE TABLE ok (id int);",
                    "0002_bad.sql": "CREATE TABLE half (id int); SELECT * FROM no_such_table;",
                ])
                await #expect(throws: MigrationError.self) {
                    try await Migrator(client: client, logger: logger).migrate(Migrator.load(from: directory))
                }
                let rows = try await client.query(
                    "SELECT to_regclass('ok') IS NOT NULL, to_regclass('half') IS NULL, (SELECT count(*) FROM schema_migrations)",
                    logger: logger)
                for try await (okExists, halfAbsent, applied) in rows.decode((Bool, Bool, Int).self) {
                    #expect(okExists)
                    #expect(halfAbsent)
                    #expect(applied == 1)
                }
            }
        }
    }

    @Test func twoInstancesMigratingTogetherApplyEachFileOnce() async throws {
        try await TestDatabase.withEmptyDatabase { configuration in
            let migrations = try Migrator.load(from: TestDatabase.migrationsDirectory)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await TestDatabase.withClient(configuration) { client in
                            try await Migrator(client: client, logger: logger).migrate(migrations).count
                        }
                    }
                }
                var total = 0
                for try await applied in group { total += applied }
                #expect(total == migrations.count)
            }
        }
    }

    @Test func refusesMalformedFileNames() throws {
        let directory = try writeMigrations(["1_short.sql": "SELECT 1;"])
        #expect(throws: MigrationError.self) { try Migrator.load(from: directory) }
    }
}
