import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Tells every instance which organization's configuration changed, over PostgreSQL
/// `LISTEN/NOTIFY`, so each can drop its cached copy within moments of the commit.
public struct ConfigurationChangeFeed: Service {
    /// The channel every configuration write notifies on, with the organization id as payload.
    public static let channel = "switchboard_configuration"

    let client: PostgresClient
    let logger: Logger
    let onChange: @Sendable (UUID) -> Void
    /// Called whenever listening (re)starts: notifications may have been missed meanwhile.
    let onListening: @Sendable () -> Void
    let retryDelay: Duration

    public init(
        client: PostgresClient, logger: Logger, retryDelay: Duration = .seconds(1),
        onListening: @escaping @Sendable () -> Void, onChange: @escaping @Sendable (UUID) -> Void
    ) {
        self.client = client
        self.logger = logger
        self.retryDelay = retryDelay
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
                    try await client.withConnection { connection in
                        let notifications = try await connection.listen(Self.channel)
                        onListening()
                        logger.debug("listening for configuration changes")
                        for try await notification in notifications {
                            if let id = UUID(uuidString: notification.payload) { onChange(id) }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("configuration change feed interrupted; retrying", metadata: ["error": "\(type(of: error))"])
                }
                try? await Task.sleep(for: retryDelay)
            }
        }
    }
}
