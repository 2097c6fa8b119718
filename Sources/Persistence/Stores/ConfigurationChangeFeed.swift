import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Tells every instance which organization's configuration changed, over PostgreSQL
/// `LISTEN/NOTIFY`, so each can drop its cached copy within moments of the commit.
///
/// A LISTEN connection can go deaf without an error (half-open TCP, a stuck backend), so every
/// `heartbeatInterval` the feed sends a `NOTIFY` to itself on that connection; when it has not come
/// back within `heartbeatTimeout`, the connection is closed, everything cached is dropped
/// (`onListening`) and the feed listens again on a fresh connection.
public struct ConfigurationChangeFeed: Service {
    /// The channel every configuration write notifies on, with the organization id as payload.
    public static let channel = "switchboard_configuration"
    /// Thirty seconds.
    public static let defaultHeartbeatInterval: Duration = .seconds(30)

    let client: PostgresClient
    let logger: Logger
    let onChange: @Sendable (UUID) -> Void
    /// Called whenever notifications may have been missed: when listening (re)starts, and when a
    /// heartbeat went unheard.
    let onListening: @Sendable () -> Void
    let retryDelay: Duration
    let heartbeatInterval: Duration
    let heartbeatTimeout: Duration

    /// The connection stopped delivering notifications (its own heartbeat did not come back).
    struct HeartbeatMissed: Error {}

    public init(
        client: PostgresClient, logger: Logger, retryDelay: Duration = .seconds(1),
        heartbeatInterval: Duration = Self.defaultHeartbeatInterval, heartbeatTimeout: Duration = .seconds(5),
        onListening: @escaping @Sendable () -> Void, onChange: @escaping @Sendable (UUID) -> Void
    ) {
        self.client = client
        self.logger = logger
        self.retryDelay = retryDelay
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = min(heartbeatTimeout, heartbeatInterval)
        self.onListening = onListening
        self.onChange = onChange
    }

    /// Queues a notification in the caller's transaction; it is delivered on commit only.
    static func notify(organizationID: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_notify(\(channel), \(organizationID.uuidString.lowercased()))", logger: logger)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await listen()
                } catch is HeartbeatMissed {
                    // The connection was closed for it, so the listening side may report that first;
                    // `listen` rethrows either as `HeartbeatMissed`.
                    if Task.isCancelled { return }
                    logger.warning("configuration change feed missed its heartbeat; reconnecting")
                    onListening()
                } catch {
                    if Task.isCancelled { return }
                    logger.warning(
                        "configuration change feed interrupted; retrying",
                        metadata: ["error": "\(type(of: error))", "code": "\((error as? PSQLError)?.code.description ?? "-")"])
                }
                try? await Task.sleep(for: retryDelay)
            }
        }
    }

    /// Listens on one connection until it fails, goes deaf, or the task is cancelled.
    private func listen() async throws {
        try await client.withConnection { connection in
            let notifications = try await connection.listen(Self.channel)
            onListening()
            logger.debug("listening for configuration changes")
            // Payloads of other instances' heartbeats are not UUIDs, so every instance ignores them.
            let beat = "heartbeat:" + UUID().uuidString.lowercased()
            let heard = LastHeard()
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await notification in notifications {
                            if notification.payload == beat {
                                heard.record()
                            } else if let id = UUID(uuidString: notification.payload) {
                                onChange(id)
                            }
                        }
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: heartbeatInterval)
                            let sent = ContinuousClock.now
                            // Sent without waiting: on a stuck connection the query never returns either.
                            let send = Task {
                                try await connection.query("SELECT pg_notify(\(Self.channel), \(beat))", logger: logger)
                            }
                            while !heard.since(sent) {
                                guard ContinuousClock.now - sent < heartbeatTimeout else {
                                    send.cancel()
                                    heard.markMissed()
                                    // Closed, so the pool never hands the deaf connection out again.
                                    try? await connection.close()
                                    throw HeartbeatMissed()
                                }
                                try await Task.sleep(for: .milliseconds(10))
                            }
                        }
                    }
                    // Either child ending ends listening on this connection.
                    try await group.next()
                    group.cancelAll()
                }
            } catch {
                if heard.missed { throw HeartbeatMissed() }
                throw error
            }
        }
    }
}

/// When the feed last heard its own heartbeat (shared by its listening and heartbeat tasks).
private final class LastHeard: Sendable {
    private let instant = Mutex<ContinuousClock.Instant?>(nil)
    private let missedFlag = Mutex(false)

    /// Whether a heartbeat went unheard (the connection was closed for it).
    var missed: Bool { missedFlag.withLock { $0 } }

    func markMissed() { missedFlag.withLock { $0 = true } }

    func record() { instant.withLock { $0 = .now } }

    /// Whether a heartbeat was heard at or after `start`.
    func since(_ start: ContinuousClock.Instant) -> Bool { instant.withLock { $0.map { $0 >= start } ?? false } }
}
