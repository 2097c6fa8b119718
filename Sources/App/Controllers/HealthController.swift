import Hummingbird
import Logging
import PostgresNIO

/// `/healthz` (the process is up) and `/readyz` (the database answers).
struct HealthController {
    let postgres: PostgresClient

    struct Status: ResponseEncodable {
        let status: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in Status(status: "ok") }
        router.get("/readyz") { _, context in
            do {
                try await withDeadline(.seconds(2)) {
                    try await postgres.query("SELECT 1", logger: context.logger)
                }
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(type(of: error))"])
                throw APIError.databaseUnavailable
            }
            return Status(status: "ready")
        }
    }
}

/// The deadline passed before the operation finished.
struct DeadlineExceeded: Error {}

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` when it takes longer than `timeout`.
func withDeadline<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw DeadlineExceeded() }
        return result
    }
}
