import Foundation
import Logging
import Persistence
import PostgresNIO
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The change feed notices a LISTEN connection that went deaf without an error and listens again.
@Suite struct ConfigurationChangeFeedTests {
    let logger = StoreFixtures.logger

    /// Waits up to `timeout` for `condition`.
    static func eventually(_ timeout: Duration, _ condition: () -> Bool) async throws -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// The feed's backend is stopped (SIGSTOP; the test cluster is this user's own, started by
    /// scripts/test): its TCP connection stays open and nothing arrives on it any more, as with a
    /// half-open connection. The missed heartbeat drops every cached entry, the feed reconnects,
    /// and notifications are heard again.
    @Test func aMissedHeartbeatReconnectsAndInvalidatesEverything() async throws {
        try await TestDatabase.withMigratedDatabase { postgres, configuration in
            var feedConfiguration = configuration
            feedConfiguration.options.additionalStartupParameters = [("application_name", "change-feed-under-test")]
            try await TestDatabase.withClient(feedConfiguration) { feedClient in
                final class Seen: Sendable {
                    let listenings = Mutex(0)
                    let changes = Mutex<[UUID]>([])
                }
                let seen = Seen()
                let feed = ConfigurationChangeFeed(
                    client: feedClient, logger: logger, retryDelay: .milliseconds(50),
                    heartbeatInterval: .milliseconds(500), heartbeatTimeout: .seconds(2),
                    onListening: { seen.listenings.withLock { $0 += 1 } },
                    onChange: { id in seen.changes.withLock { $0.append(id) } })
                let running = Task { try await feed.run() }
                defer { running.cancel() }
                #expect(try await Self.eventually(.seconds(20)) { seen.listenings.withLock { $0 } == 1 })
                // Healthy heartbeats change nothing.
                try await Task.sleep(for: .milliseconds(1500))
                #expect(seen.listenings.withLock { $0 } == 1, "a heard heartbeat must not reconnect")

                // Every backend of the feed's client (its pool may hold more than the listening one; one
                // may close as we look): all of them stop, so the listening one surely does.
                var pids: [Int32] = []
                for try await value in try await postgres.query(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'change-feed-under-test'", logger: logger
                ).decode(Int32.self) {
                    pids.append(value)
                }
                let stopped = pids.filter { kill($0, SIGSTOP) == 0 }
                #expect(!stopped.isEmpty, "the feed's backend must exist and the test cluster must belong to this user")
                do {
                    #expect(
                        try await Self.eventually(.seconds(20)) { seen.listenings.withLock { $0 } >= 3 },
                        "a missed heartbeat drops the cache and listening restarts on a new connection")
                    let id = UUID()
                    try await postgres.query(
                        "SELECT pg_notify(\(ConfigurationChangeFeed.channel), \(id.uuidString.lowercased()))", logger: logger)
                    #expect(try await Self.eventually(.seconds(20)) { seen.changes.withLock { $0.contains(id) } })
                } catch {
                    for pid in stopped { kill(pid, SIGCONT) }
                    throw error
                }
                for pid in stopped { kill(pid, SIGCONT) }
            }
        }
    }
}
