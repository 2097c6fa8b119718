import Logging
import PostgresNIO

/// Deletes stored provider webhooks (raw payloads hold phone numbers) once they are older than
/// the retention period, in small batches so no statement holds many row locks or runs long.
public struct WebhookEventRetention: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// One batch: the oldest `limit` events received more than `days` days ago, found through
    /// `webhook_events_received_idx` (sql/0012) and deleted by their row addresses (a TID scan),
    /// so a batch reads its own rows only. (Deleting by primary key `IN (…)` let the planner hash
    /// the batch against a sequential scan of the whole table once batches were large.)
    public static func deleteBatchQuery(olderThanDays days: Int, limit: Int) -> PostgresQuery {
        """
        DELETE FROM webhook_events
        WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM webhook_events
            WHERE received_at < now() - make_interval(days => \(days)::int4)
            ORDER BY received_at LIMIT \(limit)))
        RETURNING 1
        """
    }

    /// Deletes one batch of at most `limit` events older than `days` days; returns how many went.
    public func deleteBatch(olderThanDays days: Int, limit: Int, logger: Logger) async throws -> Int {
        let rows = try await client.query(Self.deleteBatchQuery(olderThanDays: days, limit: limit), logger: logger)
        var deleted = 0
        for try await _ in rows { deleted += 1 }
        return deleted
    }

    /// Deletes every event older than `days` days, batch by batch; returns how many went.
    public func deleteExpired(olderThanDays days: Int, batchSize: Int = 1000, logger: Logger) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await deleteBatch(olderThanDays: days, limit: batchSize, logger: logger)
            total += deleted
            if deleted < batchSize { return total }
        }
    }
}
