import Foundation
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Why `DatabaseAvailability` did not run a database step; the HTTP layer maps it to a 503.
enum DatabaseAvailabilityError: Error, Equatable, CustomStringConvertible {
    /// PostgreSQL cannot be reached (connection refused, reset, or connecting timed out).
    case unavailable
    /// PostgreSQL is reachable but no pooled connection came free in time: this step only.
    case busy

    var description: String {
        switch self {
        case .unavailable: "the database is unreachable"
        case .busy: "no database connection came free in time"
        }
    }
}

/// Tells whether PostgreSQL accepts connections at all, without taking a pooled connection.
struct DatabaseReachability: Sendable {
    let isReachable: @Sendable () async -> Bool

    /// A TCP (or Unix socket) connect to the server the pool uses, bounded by `timeout`: refused,
    /// reset or timed out means unreachable. No credentials are sent.
    static func connecting(to configuration: PostgresClient.Configuration, timeout: Duration = .seconds(1)) -> DatabaseReachability {
        let path = configuration.unixSocketPath
        let host = configuration.host ?? "localhost"
        let port = configuration.port ?? 5432
        let milliseconds = max(1, Int64(timeout.components.seconds) * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return DatabaseReachability {
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(milliseconds))
            do {
                let channel: any Channel
                if let path {
                    channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
                } else {
                    channel = try await bootstrap.connect(host: host, port: port).get()
                }
                try? await channel.close()
                return true
            } catch {
                return false
            }
        }
    }
}

/// Bounds the database work of a request and fails fast while PostgreSQL is known to be away.
///
/// postgres-nio's pool waits for a connection indefinitely, so without a deadline a request
/// issued while the database is down hangs until it comes back. Every database step wrapped in
/// `bounded` gets `deadline` (3 s). When a step loses its connection, or its deadline passes and
/// PostgreSQL does not accept a connection (refused, reset, connect timeout: `reachability`), the
/// database counts as unavailable (`.unavailable`, 503 `database_unavailable`) and the following
/// steps get only `probeDeadline` (250 ms), so a request during an outage answers 503 in a
/// fraction of a second instead of after 3 s each. When the deadline passes but PostgreSQL is
/// reachable, the pool is merely saturated: that step alone fails with `.busy` (503
/// `server_busy`, `Retry-After`) and nothing is remembered, so load never turns an instance into
/// a 503 machine. The first step that succeeds again clears the state; nothing is retried here
/// (providers retry webhooks on 5xx, API clients retry 503s).
final class DatabaseAvailability: Sendable {
    /// The limit while the database is healthy.
    let deadline: Duration
    /// The limit while it is known to be unavailable: enough for a reconnected pool to answer.
    let probeDeadline: Duration
    /// How long a reachability answer is reused: a saturated pool times out many steps at once.
    let reachabilityReuse: Duration
    /// Tells a saturated pool from an unreachable server; nil counts every timeout as unreachable.
    private let reachability: DatabaseReachability?
    /// When a step last failed for want of the database; nil while healthy.
    private let unavailableSince = Mutex<ContinuousClock.Instant?>(nil)
    private let probe = Mutex(ProbeState())

    private struct ProbeState {
        var last: (at: ContinuousClock.Instant, reachable: Bool)?
        var running: Task<Bool, Never>?
    }

    init(
        deadline: Duration = .seconds(3), probeDeadline: Duration = .milliseconds(250),
        reachability: DatabaseReachability? = nil, reachabilityReuse: Duration = .seconds(1)
    ) {
        self.deadline = deadline
        self.probeDeadline = probeDeadline
        self.reachability = reachability
        self.reachabilityReuse = reachabilityReuse
    }

    /// Whether the database is known to be unreachable (the last connectivity check failed).
    var isUnavailable: Bool { unavailableSince.withLock { $0 != nil } }

    /// The limit the next step gets.
    var currentLimit: Duration { isUnavailable ? probeDeadline : deadline }

    /// Runs one database step under the current limit (plus `allowance`, for a step that also
    /// waits on a provider). Throws `.unavailable` when it lost its connection or timed out with
    /// PostgreSQL unreachable (remembered), `.busy` when it timed out with PostgreSQL reachable
    /// (not remembered); any other error of the step is rethrown as is.
    func bounded<T: Sendable>(
        allowance: Duration = .zero, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        do {
            let result = try await withDeadline(currentLimit + allowance, operation)
            unavailableSince.withLock { $0 = nil }
            return result
        } catch is DeadlineExceeded {
            guard await isReachable() else {
                markUnavailable()
                throw DatabaseAvailabilityError.unavailable
            }
            throw DatabaseAvailabilityError.busy
        } catch let error where Self.isConnectivity(error) {
            markUnavailable()
            throw DatabaseAvailabilityError.unavailable
        }
    }

    /// Whether `error` says the connection to PostgreSQL failed (not that a statement did).
    static func isConnectivity(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
                .queryCancelled:
                return true
            default:
                return error.serverInfo?[.sqlState].map { $0.hasPrefix("08") || $0.hasPrefix("57P") } ?? false
            }
        case let error as PostgresTransactionError:
            return [error.beginError, error.closureError, error.commitError].contains { $0.map(isConnectivity) ?? false }
        default:
            return false
        }
    }

    /// One connectivity check at a time, its answer shared by the steps that time out together.
    private func isReachable() async -> Bool {
        guard let reachability else { return false }
        enum Next {
            case known(Bool)
            case wait(Task<Bool, Never>)
        }
        let reuse = reachabilityReuse
        let next = probe.withLock { state -> Next in
            if let last = state.last, last.at.duration(to: .now) < reuse { return .known(last.reachable) }
            if let running = state.running { return .wait(running) }
            let task = Task {
                let reachable = await reachability.isReachable()
                self.probe.withLock { state in
                    state.last = (.now, reachable)
                    state.running = nil
                }
                return reachable
            }
            state.running = task
            return .wait(task)
        }
        switch next {
        case .known(let reachable): return reachable
        case .wait(let task): return await task.value
        }
    }

    private func markUnavailable() {
        unavailableSince.withLock { $0 = $0 ?? .now }
    }
}
