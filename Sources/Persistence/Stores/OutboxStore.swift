import Foundation
import Logging
import PostgresNIO

/// An outbox row claimed for delivery.
public struct OutboxItem: Sendable, Equatable {
    public let organizationID: UUID
    public let id: UUID
    public let kind: String
    /// The payload as JSON text.
    public let payload: String
    /// Delivery attempts so far, this one included.
    public let attempts: Int
    public let createdAt: Date
}

/// How an organization's deliveries of one kind stand.
public struct OutboxSummary: Sendable, Equatable {
    public let pending: Int
    public let delivered: Int
    public let givenUp: Int
    /// The most recent error of a row not delivered yet or given up on, and when that row was made.
    public let lastError: String?
    public let lastErrorCreatedAt: Date?
}

/// The transactional outbox: rows written in the transaction of the change that caused them, claimed
/// by any instance with `FOR UPDATE SKIP LOCKED`, retried with backoff until delivered or given up on.
///
/// A claim leases a row: it counts the attempt and moves `next_attempt_at` past the lease, so no other
/// instance takes it while it is being delivered; a process that dies mid-delivery leaves it due again
/// when the lease ends. A row is therefore delivered at least once; handlers make that exactly once
/// where the receiver allows (see the Odoo write-back's check for its own earlier post).
public struct OutboxStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Claims up to `limit` due rows (oldest due first), leasing each for `lease`.
    public func claimDue(limit: Int, lease: Duration, logger: Logger) async throws -> [OutboxItem] {
        let leaseSeconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        let rows = try await client.query(
            """
            UPDATE outbox o SET attempts = o.attempts + 1,
                next_attempt_at = now() + make_interval(secs => \(leaseSeconds))
            FROM (SELECT organization_id, id FROM outbox
                  WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= now()
                  ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED) due
            WHERE o.organization_id = due.organization_id AND o.id = due.id
            RETURNING o.organization_id, o.id, o.kind, o.payload::text, o.attempts, o.created_at
            """, logger: logger)
        var items: [OutboxItem] = []
        for try await (organizationID, id, kind, payload, attempts, createdAt) in rows.decode(
            (UUID, UUID, String, String, Int32, Date).self)
        {
            items.append(
                OutboxItem(
                    organizationID: organizationID, id: id, kind: kind, payload: payload, attempts: Int(attempts),
                    createdAt: createdAt))
        }
        return items
    }

    /// Marks a row delivered.
    public func markDelivered(_ item: OutboxItem, logger: Logger) async throws {
        try await client.query(
            """
            UPDATE outbox SET delivered_at = now(), last_error = NULL
            WHERE organization_id = \(item.organizationID) AND id = \(item.id)
            """, logger: logger)
    }

    /// Records a failed attempt; the row is due again after `retryAfter`.
    public func markFailed(_ item: OutboxItem, error: String, retryAfter: Duration, logger: Logger) async throws {
        let seconds = Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18
        try await client.query(
            """
            UPDATE outbox SET last_error = \(String(error.prefix(1000))),
                next_attempt_at = now() + make_interval(secs => \(seconds))
            WHERE organization_id = \(item.organizationID) AND id = \(item.id) AND delivered_at IS NULL
            """, logger: logger)
    }

    /// Stops retrying a row that can never be delivered (e.g. its target was deleted).
    public func giveUp(_ item: OutboxItem, error: String, logger: Logger) async throws {
        try await client.query(
            """
            UPDATE outbox SET given_up_at = now(), last_error = \(String(error.prefix(1000)))
            WHERE organization_id = \(item.organizationID) AND id = \(item.id) AND delivered_at IS NULL
            """, logger: logger)
    }

    /// How the organization's rows of `kind` stand.
    public func summary(organizationID: UUID, kind: String, logger: Logger) async throws -> OutboxSummary {
        let rows = try await client.query(
            """
            SELECT count(*) FILTER (WHERE delivered_at IS NULL AND given_up_at IS NULL),
                   count(*) FILTER (WHERE delivered_at IS NOT NULL),
                   count(*) FILTER (WHERE given_up_at IS NOT NULL),
                   (SELECT last_error FROM outbox WHERE organization_id = \(organizationID) AND kind = \(kind)
                      AND delivered_at IS NULL AND last_error IS NOT NULL ORDER BY created_at DESC LIMIT 1),
                   (SELECT created_at FROM outbox WHERE organization_id = \(organizationID) AND kind = \(kind)
                      AND delivered_at IS NULL AND last_error IS NOT NULL ORDER BY created_at DESC LIMIT 1)
            FROM outbox WHERE organization_id = \(organizationID) AND kind = \(kind)
            """, logger: logger)
        for try await (pending, delivered, givenUp, lastError, at) in rows.decode((Int64, Int64, Int64, String?, Date?).self) {
            return OutboxSummary(
                pending: Int(pending), delivered: Int(delivered), givenUp: Int(givenUp), lastError: lastError,
                lastErrorCreatedAt: at)
        }
        return OutboxSummary(pending: 0, delivered: 0, givenUp: 0, lastError: nil, lastErrorCreatedAt: nil)
    }
}
