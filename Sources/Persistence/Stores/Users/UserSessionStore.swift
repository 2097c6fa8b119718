import Foundation
import Logging
import PostgresNIO

/// A console session as a request sees it: who is signed in and the session's CSRF token.
public struct UserSession: Sendable, Equatable {
    public let user: User
    public let organizationSlug: String
    public let organizationName: String
    /// The token every unsafe console request must echo.
    public let csrfToken: String
    public let createdAt: Date
    public let lastSeenAt: Date
}

/// Server-side console sessions in PostgreSQL: any instance accepts any session, and deleting
/// the rows (sign-out, disabling a user) ends them everywhere at once. The browser holds a random
/// id; only its SHA-256 is stored.
public struct UserSessionStore: Sendable {
    let client: PostgresClient

    /// A session unused for this long has ended.
    public static let idleTimeout: TimeInterval = 12 * 3600
    /// A session older than this has ended however busy it was.
    public static let absoluteTimeout: TimeInterval = 7 * 24 * 3600
    /// `last_seen_at` is written at most this often per session.
    static let touchInterval: TimeInterval = 60

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Starts a session for a user who just signed in, ending the session the browser came with
    /// (the id always rotates at sign-in). Returns the new id for the cookie.
    public func create(
        organizationID: UUID, userID: UUID, replacing previous: RandomToken?, now: Date = Date(), logger: Logger
    ) async throws -> RandomToken {
        let token = RandomToken.generate()
        let csrf = RandomToken.generate()
        try await client.inTransaction(logger: logger) { connection in
            if let previous {
                try await connection.query("DELETE FROM user_sessions WHERE id_hash = \(previous.hash)", logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO user_sessions (organization_id, id_hash, user_id, csrf_token, created_at, last_seen_at)
                VALUES (\(organizationID), \(token.hash), \(userID), \(csrf.value), \(now), \(now))
                """, logger: logger)
        }
        return token
    }

    /// The live session with this id: its user enabled, its organization enabled, used within the
    /// idle timeout and younger than the absolute one. Anything else is nil (and an expired row goes).
    public func find(_ token: RandomToken, now: Date = Date(), logger: Logger) async throws -> UserSession? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: UserStore.columns(prefix: "u.")), o.slug, o.name, s.csrf_token, s.created_at, s.last_seen_at
            FROM user_sessions s
            JOIN users u ON u.organization_id = s.organization_id AND u.id = s.user_id
            JOIN organizations o ON o.id = s.organization_id
            WHERE s.id_hash = \(token.hash) AND u.disabled_at IS NULL AND o.disabled_at IS NULL
            """, logger: logger)
        var found: UserSession?
        for try await (id, organizationID, email, name, role, hasPassword, disabledAt, createdAt, lastSignInAt, slug, orgName, csrf, sessionCreated, lastSeen)
            in rows.decode((UUID, UUID, String, String, String, Bool, Date?, Date, Date?, String, String, String, Date, Date).self)
        {
            guard let role = UserRole(rawValue: role) else { continue }
            found = UserSession(
                user: User(
                    id: id, organizationID: organizationID, email: email, name: name, role: role, hasPassword: hasPassword,
                    disabledAt: disabledAt, createdAt: createdAt, lastSignInAt: lastSignInAt),
                organizationSlug: slug, organizationName: orgName, csrfToken: csrf, createdAt: sessionCreated, lastSeenAt: lastSeen)
        }
        guard let session = found else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) >= Self.idleTimeout
            || now.timeIntervalSince(session.createdAt) >= Self.absoluteTimeout
        {
            try await delete(token, logger: logger)
            return nil
        }
        if now.timeIntervalSince(session.lastSeenAt) > Self.touchInterval {
            try await client.query(
                """
                UPDATE user_sessions SET last_seen_at = \(now)
                WHERE organization_id = \(session.user.organizationID) AND id_hash = \(token.hash)
                """, logger: logger)
        }
        return session
    }

    /// Ends one session (sign-out).
    public func delete(_ token: RandomToken, logger: Logger) async throws {
        try await client.query("DELETE FROM user_sessions WHERE id_hash = \(token.hash)", logger: logger)
    }

    /// How many sessions a user has open.
    public func count(organizationID: UUID, userID: UUID, logger: Logger) async throws -> Int {
        let rows = try await client.query(
            "SELECT count(*) FROM user_sessions WHERE organization_id = \(organizationID) AND user_id = \(userID)",
            logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Deletes every ended session and old sign-in failure; returns how many sessions went.
    @discardableResult
    public func purgeExpired(now: Date = Date(), logger: Logger) async throws -> Int {
        let idle = now.addingTimeInterval(-Self.idleTimeout)
        let absolute = now.addingTimeInterval(-Self.absoluteTimeout)
        let rows = try await client.query(
            "DELETE FROM user_sessions WHERE last_seen_at <= \(idle) OR created_at <= \(absolute) RETURNING 1", logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        try await client.query(
            "DELETE FROM sign_in_failures WHERE at < \(now.addingTimeInterval(-24 * 3600))", logger: logger)
        return count
    }
}
