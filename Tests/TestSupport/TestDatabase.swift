import Foundation
import Logging
import Persistence
import PostgresNIO

/// A fresh, migrated PostgreSQL database per test, on the cluster `scripts/test` starts.
///
/// Tests never skip when the database is missing: they fail and say how to run them.
public enum TestDatabase {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "SWITCHBOARD_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL"
        }
    }

    /// The repository's `sql/` directory.
    public static let migrationsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sql")

    /// The maintenance connection (to create and drop test databases).
    public static func maintenanceConfiguration() throws -> PostgresClient.Configuration {
        guard let url = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        return try DatabaseURL.configuration(from: url)
    }

    /// Creates an empty database, runs `body` with its configuration, then drops it.
    public static func withEmptyDatabase<Result: Sendable>(
        _ body: (PostgresClient.Configuration) async throws -> Result
    ) async throws -> Result {
        let maintenance = try maintenanceConfiguration()
        let name = "sbtest_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await withClient(maintenance) { client in
            try await client.query("CREATE DATABASE \(unescaped: name)", logger: logger)
        }
        var configuration = maintenance
        configuration.database = name
        do {
            let result = try await body(configuration)
            await drop(name, maintenance: maintenance)
            return result
        } catch {
            await drop(name, maintenance: maintenance)
            throw error
        }
    }

    /// A migrated database and a running client on it for the duration of `body`.
    public static func withMigratedDatabase<Result: Sendable>(
        _ body: (PostgresClient, PostgresClient.Configuration) async throws -> Result
    ) async throws -> Result {
        try await withEmptyDatabase { configuration in
            try await withClient(configuration) { client in
                try await Migrator(client: client, logger: logger).migrate(Migrator.load(from: migrationsDirectory))
                return try await body(client, configuration)
            }
        }
    }

    /// Runs `body` with a running client that is shut down afterwards.
    public static func withClient<Result: Sendable>(
        _ configuration: PostgresClient.Configuration, _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        var configuration = configuration
        configuration.options.maximumConnections = 4
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Drops a test database, best effort: `WITH (FORCE)` cannot end an autovacuum worker that
    /// happens to be in it (it belongs to the superuser), so a few retries cover that moment; a
    /// database still left over is removed by `scripts/test` next time, never failing a test.
    static func drop(_ name: String, maintenance: PostgresClient.Configuration) async {
        for attempt in 0..<10 {
            do {
                try await withClient(maintenance) { client in
                    try await client.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: logger)
                }
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(100 * (attempt + 1)))
            }
        }
        logger.warning("test database left behind", metadata: ["database": "\(name)"])
    }

    public static let logger: Logger = {
        var logger = Logger(label: "test-database")
        logger.logLevel = .warning
        return logger
    }()
}
