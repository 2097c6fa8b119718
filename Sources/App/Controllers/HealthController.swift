import Hummingbird
import Logging
import PostgresNIO

/// `/healthz` (the process is up) and `/readyz` (the database answers, or is reachable and busy:
/// a saturated pool is a per-request condition, not a reason to take the instance out of service).
struct HealthController {
    let postgres: PostgresClient
    /// Told when the database answers again (or not), so other requests stop or start failing fast.
    var database = DatabaseAvailability()

    struct Status: ResponseEncodable {
        let status: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in Status(status: "ok") }
        router.get("/readyz") { _, context in
            do {
                _ = try await database.bounded {
                    try await postgres.query("SELECT 1", logger: context.logger)
                }
            } catch DatabaseAvailabilityError.busy {
                return Status(status: "ready")
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(type(of: error))"])
                throw APIError.databaseUnavailable
            }
            return Status(status: "ready")
        }
    }
}
