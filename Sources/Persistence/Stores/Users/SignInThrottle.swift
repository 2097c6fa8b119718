import Foundation
import Logging
import PostgresNIO

/// Counts failed sign-ins in PostgreSQL (so every instance sees them), per account and per client
/// address: after `limit` failures within `window`, that account or address is refused until the
/// window has passed.
public struct SignInThrottle: Sendable {
    let client: PostgresClient
    /// Failures allowed within the window.
    public static let limit = 5
    /// How long failures count, and so how long a block lasts.
    public static let window: TimeInterval = 15 * 60

    public init(client: PostgresClient) {
        self.client = client
    }

    /// True when the account (a lowercased email) or the address has used up its failures.
    public func isBlocked(account: String, address: String, now: Date = Date(), logger: Logger) async throws -> Bool {
        let since = now.addingTimeInterval(-Self.window)
        let rows = try await client.query(
            """
            SELECT (SELECT count(*) FROM sign_in_failures WHERE kind = 'account' AND subject = \(account) AND at > \(since)),
                   (SELECT count(*) FROM sign_in_failures WHERE kind = 'address' AND subject = \(address) AND at > \(since))
            """, logger: logger)
        for try await (accountFailures, addressFailures) in rows.decode((Int, Int).self) {
            return accountFailures >= Self.limit || addressFailures >= Self.limit
        }
        return false
    }

    /// Records one failure for the account and one for the address.
    public func recordFailure(account: String, address: String, now: Date = Date(), logger: Logger) async throws {
        try await client.query(
            """
            INSERT INTO sign_in_failures (kind, subject, at)
            VALUES ('account', \(String(account.prefix(300))), \(now)), ('address', \(String(address.prefix(300))), \(now))
            """, logger: logger)
    }

    /// Forgets the account's failures after a successful sign-in (the address's stay counted).
    public func clear(account: String, logger: Logger) async throws {
        try await client.query("DELETE FROM sign_in_failures WHERE kind = 'account' AND subject = \(account)", logger: logger)
    }
}
