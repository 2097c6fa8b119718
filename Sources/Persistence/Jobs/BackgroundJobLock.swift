import Logging
import PostgresNIO

/// Makes a background job run on one instance at a time: a PostgreSQL session advisory lock per
/// job name, tried (never waited for) on a pooled connection and held while the job runs.
public struct BackgroundJobLock: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Runs `body` while holding the job's lock and returns its result; nil (without running it)
    /// when another instance holds the lock now.
    public func run<Result: Sendable>(
        _ job: String, logger: Logger, _ body: () async throws -> Result
    ) async throws -> Result? {
        let name = "switchboard-job:\(job)"
        return try await client.withConnection { connection in
            var acquired = false
            for try await granted in try await connection.query(
                "SELECT pg_try_advisory_lock(hashtextextended(\(name), 0))", logger: logger
            ).decode(Bool.self) {
                acquired = granted
            }
            guard acquired else { return nil }
            let result: Result
            do {
                result = try await body()
            } catch {
                await Self.release(name, on: connection, logger: logger)
                throw error
            }
            await Self.release(name, on: connection, logger: logger)
            return result
        }
    }

    /// A session lock outlives the job on a pooled connection, so a failed unlock closes the
    /// connection: PostgreSQL then drops the lock with the session instead of keeping it forever.
    static func release(_ name: String, on connection: PostgresConnection, logger: Logger) async {
        do {
            try await connection.query("SELECT pg_advisory_unlock(hashtextextended(\(name), 0))", logger: logger)
        } catch {
            logger.warning("background job lock not released; closing its connection", metadata: ["job": .string(name)])
            try? await connection.close()
        }
    }
}
