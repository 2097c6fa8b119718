import Foundation
import PostgresNIO
import Synchronization

/// Bounds the database work of a request and fails fast while PostgreSQL is known to be away.
///
/// postgres-nio's pool waits for a connection indefinitely, so without a deadline a request
/// issued while the database is down hangs until it comes back. Every database step wrapped in
/// `bounded` gets `deadline` (3 s); once one of them timed out or lost its connection, the
/// database counts as unavailable and the following steps get only `probeDeadline` (250 ms), so a
/// request during an outage answers 503 in a fraction of a second instead of after 3 s each. The
/// first step that succeeds again clears the state; nothing is retried here (providers retry
/// webhooks on 5xx, and API clients see `database_unavailable`).
final class DatabaseAvailability: Sendable {
    /// The limit while the database is healthy.
    let deadline: Duration
    /// The limit while it is known to be unavailable: enough for a reconnected pool to answer.
    let probeDeadline: Duration
    /// When a step last failed for want of the database; nil while healthy.
    private let unavailableSince = Mutex<ContinuousClock.Instant?>(nil)

    init(deadline: Duration = .seconds(3), probeDeadline: Duration = .milliseconds(250)) {
        self.deadline = deadline
        self.probeDeadline = probeDeadline
    }

    /// Whether the last bounded step failed for want of the database.
    var isUnavailable: Bool { unavailableSince.withLock { $0 != nil } }

    /// The limit the next step gets.
    var currentLimit: Duration { isUnavailable ? probeDeadline : deadline }

    /// Runs one database step under the current limit: 503 (`database_unavailable`) when it
    /// passes; a lost connection is rethrown (mapped to 503 as before) and remembered too.
    func bounded<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            let result = try await withDeadline(currentLimit, operation)
            unavailableSince.withLock { $0 = nil }
            return result
        } catch is DeadlineExceeded {
            markUnavailable()
            throw APIError.databaseUnavailable
        } catch let error as PSQLError where RequestMiddleware.isConnectivity(error) {
            markUnavailable()
            throw error
        }
    }

    private func markUnavailable() {
        unavailableSince.withLock { $0 = $0 ?? .now }
    }
}
