import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` in one transaction and rethrows the body's own error unwrapped, so callers
    /// can match on domain errors instead of `PostgresTransactionError`.
    func inTransaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError {
                throw closureError
            }
            throw error
        }
    }
}

extension PSQLError {
    /// The SQLSTATE code the server sent, if any.
    var sqlState: String? {
        serverInfo?[.sqlState]
    }

    /// A unique constraint was violated.
    var isUniqueViolation: Bool { sqlState == "23505" }
}
