import Foundation
import Logging
import PostgresNIO

/// Console users of an organization: invited, activated with a password, listed, re-roled and
/// disabled. Every query but the sign-in lookup is scoped by organization.
public struct UserStore: Sendable {
    let client: PostgresClient

    /// How long an invitation link stays valid.
    public static let invitationLifetime: TimeInterval = 24 * 3600

    public init(client: PostgresClient) {
        self.client = client
    }

    /// A user's password hash, for checking a sign-in attempt.
    public struct Credential: Sendable {
        public let user: User
        public let organizationSlug: String
        public let passwordHash: String
    }

    /// Invites `email`: creates the user (no password yet) or, when that person was invited
    /// before and never set a password, replaces their role and name and their earlier links.
    /// Returns the one-time token of the link; only its SHA-256 is stored.
    public func invite(
        organizationID: UUID, email: String, name: String, role: UserRole, actor: Actor, now: Date = Date(), logger: Logger
    ) async throws -> (user: User, token: RandomToken) {
        let token = RandomToken.generate()
        return try await client.inTransaction(logger: logger) { connection in
            let existing = try await Self.decode(
                connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM users
                    WHERE organization_id = \(organizationID) AND email = \(email) FOR UPDATE
                    """, logger: logger)
            ).first
            let user: User
            if let existing {
                guard !existing.hasPassword, existing.disabledAt == nil else {
                    throw PersistenceError.duplicate("a user with email '\(email)'")
                }
                guard
                    let updated = try await Self.decode(
                        connection.query(
                            """
                            UPDATE users SET role = \(role.rawValue), name = \(name)
                            WHERE organization_id = \(organizationID) AND id = \(existing.id)
                            RETURNING \(unescaped: Self.columns)
                            """, logger: logger)
                    ).first
                else { throw PersistenceError.notFound("user") }
                try await connection.query(
                    "DELETE FROM user_invitations WHERE organization_id = \(organizationID) AND user_id = \(existing.id)",
                    logger: logger)
                user = updated
            } else {
                guard
                    let created = try await Self.decode(
                        connection.query(
                            """
                            INSERT INTO users (organization_id, id, email, name, role, created_at)
                            VALUES (\(organizationID), \(UUID()), \(email), \(name), \(role.rawValue), \(now))
                            RETURNING \(unescaped: Self.columns)
                            """, logger: logger)
                    ).first
                else { throw PersistenceError.notFound("user") }
                user = created
            }
            try await connection.query(
                """
                INSERT INTO user_invitations (organization_id, token_hash, user_id, created_at, expires_at)
                VALUES (\(organizationID), \(token.hash), \(user.id), \(now), \(now.addingTimeInterval(Self.invitationLifetime)))
                """, logger: logger)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "user.invite", target: user.id.uuidString.lowercased(),
                    details: ["email": email, "role": role.rawValue]),
                on: connection, logger: logger)
            return (user, token)
        }
    }

    /// The user an unused, unexpired invitation link is for (nil for any other token).
    public func invitation(_ token: RandomToken, now: Date = Date(), logger: Logger) async throws -> User? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns(prefix: "u.")) FROM user_invitations i
            JOIN users u ON u.organization_id = i.organization_id AND u.id = i.user_id
            WHERE i.token_hash = \(token.hash) AND i.used_at IS NULL AND i.expires_at > \(now) AND u.disabled_at IS NULL
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Sets the password of the invitation's user and uses the link up (every link of that user
    /// stops working, and any session they had ends). Nil when the link is not valid.
    public func acceptInvitation(_ token: RandomToken, passwordHash: String, now: Date = Date(), logger: Logger)
        async throws -> User?
    {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT i.organization_id, i.user_id FROM user_invitations i
                JOIN users u ON u.organization_id = i.organization_id AND u.id = i.user_id
                WHERE i.token_hash = \(token.hash) AND i.used_at IS NULL AND i.expires_at > \(now) AND u.disabled_at IS NULL
                FOR UPDATE OF i, u
                """, logger: logger)
            var found: (UUID, UUID)?
            for try await row in rows.decode((UUID, UUID).self) { found = row }
            guard let (organizationID, userID) = found else { return nil }
            guard
                let user = try await Self.decode(
                    connection.query(
                        """
                        UPDATE users SET password_hash = \(passwordHash)
                        WHERE organization_id = \(organizationID) AND id = \(userID)
                        RETURNING \(unescaped: Self.columns)
                        """, logger: logger)
                ).first
            else { return nil }
            try await connection.query(
                """
                UPDATE user_invitations SET used_at = \(now)
                WHERE organization_id = \(organizationID) AND user_id = \(userID) AND used_at IS NULL
                """, logger: logger)
            try await connection.query(
                "DELETE FROM user_sessions WHERE organization_id = \(organizationID) AND user_id = \(userID)", logger: logger)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: .user(id: user.id, email: user.email), action: "user.set_password",
                    target: user.id.uuidString.lowercased()),
                on: connection, logger: logger)
            return user
        }
    }

    /// Creates the user with a password, or gives an existing one this role and password and
    /// enables it again (the operator's `users create`, e.g. the sandbox's admin).
    public func upsertWithPassword(
        organizationID: UUID, email: String, name: String, role: UserRole, passwordHash: String, actor: Actor,
        logger: Logger
    ) async throws -> User {
        try await client.inTransaction(logger: logger) { connection in
            guard
                let user = try await Self.decode(
                    connection.query(
                        """
                        INSERT INTO users (organization_id, id, email, name, role, password_hash)
                        VALUES (\(organizationID), \(UUID()), \(email), \(name), \(role.rawValue), \(passwordHash))
                        ON CONFLICT (organization_id, email) DO UPDATE
                        SET role = EXCLUDED.role, name = EXCLUDED.name, password_hash = EXCLUDED.password_hash, disabled_at = NULL
                        RETURNING \(unescaped: Self.columns)
                        """, logger: logger)
                ).first
            else { throw PersistenceError.notFound("user") }
            try await connection.query(
                "DELETE FROM user_sessions WHERE organization_id = \(organizationID) AND user_id = \(user.id)", logger: logger)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "user.set_password",
                    target: user.id.uuidString.lowercased(), details: ["email": email, "role": role.rawValue]),
                on: connection, logger: logger)
            return user
        }
    }

    /// Every enabled user with a password and this email, in enabled organizations, with the
    /// hash to check a sign-in against (an email may belong to several organizations).
    public func credentials(email: String, logger: Logger) async throws -> [Credential] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns(prefix: "u.")), o.slug, u.password_hash FROM users u
            JOIN organizations o ON o.id = u.organization_id
            WHERE u.email = \(email) AND u.password_hash IS NOT NULL AND u.disabled_at IS NULL AND o.disabled_at IS NULL
            ORDER BY u.created_at, u.id LIMIT 10
            """, logger: logger)
        var result: [Credential] = []
        for try await (id, organizationID, email, name, role, hasPassword, disabledAt, createdAt, lastSignInAt, slug, hash)
            in rows.decode((UUID, UUID, String, String, String, Bool, Date?, Date, Date?, String, String).self)
        {
            guard let role = UserRole(rawValue: role) else { continue }
            result.append(
                Credential(
                    user: User(
                        id: id, organizationID: organizationID, email: email, name: name, role: role, hasPassword: hasPassword,
                        disabledAt: disabledAt, createdAt: createdAt, lastSignInAt: lastSignInAt),
                    organizationSlug: slug, passwordHash: hash))
        }
        return result
    }

    /// Notes a successful sign-in.
    public func recordSignIn(organizationID: UUID, userID: UUID, now: Date = Date(), logger: Logger) async throws {
        try await client.query(
            "UPDATE users SET last_sign_in_at = \(now) WHERE organization_id = \(organizationID) AND id = \(userID)",
            logger: logger)
    }

    /// The organization's users, by email.
    public func list(organizationID: UUID, logger: Logger) async throws -> [User] {
        try await Self.decode(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM users WHERE organization_id = \(organizationID) ORDER BY email",
                logger: logger))
    }

    /// One of the organization's users.
    public func find(organizationID: UUID, id: UUID, logger: Logger) async throws -> User? {
        try await Self.decode(
            client.query(
                "SELECT \(unescaped: Self.columns) FROM users WHERE organization_id = \(organizationID) AND id = \(id)",
                logger: logger)
        ).first
    }

    /// Gives a user another role; refused when it would leave the organization without an enabled admin.
    public func changeRole(organizationID: UUID, id: UUID, role: UserRole, actor: Actor, logger: Logger) async throws -> User {
        try await client.inTransaction(logger: logger) { connection in
            guard let user = try await Self.lockUsers(organizationID: organizationID, id: id, on: connection, logger: logger)
            else { throw PersistenceError.notFound("user") }
            if user.role == role { return user }
            if user.role == .admin, user.disabledAt == nil {
                try await Self.requireAnotherAdmin(organizationID: organizationID, besides: id, on: connection, logger: logger)
            }
            guard
                let updated = try await Self.decode(
                    connection.query(
                        """
                        UPDATE users SET role = \(role.rawValue) WHERE organization_id = \(organizationID) AND id = \(id)
                        RETURNING \(unescaped: Self.columns)
                        """, logger: logger)
                ).first
            else { throw PersistenceError.notFound("user") }
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "user.change_role", target: id.uuidString.lowercased(),
                    details: ["email": user.email, "from": user.role.rawValue, "to": role.rawValue]),
                on: connection, logger: logger)
            return updated
        }
    }

    /// Disables a user and ends every session of theirs at once; refused for the last enabled admin.
    public func disable(organizationID: UUID, id: UUID, actor: Actor, now: Date = Date(), logger: Logger) async throws -> User {
        try await client.inTransaction(logger: logger) { connection in
            guard let user = try await Self.lockUsers(organizationID: organizationID, id: id, on: connection, logger: logger)
            else { throw PersistenceError.notFound("user") }
            if user.disabledAt != nil { return user }
            if user.role == .admin {
                try await Self.requireAnotherAdmin(organizationID: organizationID, besides: id, on: connection, logger: logger)
            }
            guard
                let updated = try await Self.decode(
                    connection.query(
                        """
                        UPDATE users SET disabled_at = \(now) WHERE organization_id = \(organizationID) AND id = \(id)
                        RETURNING \(unescaped: Self.columns)
                        """, logger: logger)
                ).first
            else { throw PersistenceError.notFound("user") }
            try await connection.query(
                "DELETE FROM user_sessions WHERE organization_id = \(organizationID) AND user_id = \(id)", logger: logger)
            try await connection.query(
                "DELETE FROM user_invitations WHERE organization_id = \(organizationID) AND user_id = \(id)", logger: logger)
            try await AuditStore.record(
                AuditStore.Entry(
                    organizationID: organizationID, actor: actor, action: "user.disable", target: id.uuidString.lowercased(),
                    details: ["email": user.email]),
                on: connection, logger: logger)
            return updated
        }
    }

    /// Locks the organization's users (role and disable changes serialize on it, so two admins
    /// cannot demote each other at once and leave none) and returns the one asked for.
    static func lockUsers(organizationID: UUID, id: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> User?
    {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: columns) FROM users WHERE organization_id = \(organizationID) ORDER BY id FOR UPDATE
            """, logger: logger)
        return try await decode(rows).first { $0.id == id }
    }

    static func requireAnotherAdmin(organizationID: UUID, besides id: UUID, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let rows = try await connection.query(
            """
            SELECT count(*) FROM users
            WHERE organization_id = \(organizationID) AND id <> \(id) AND role = 'admin' AND disabled_at IS NULL
              AND password_hash IS NOT NULL
            """, logger: logger)
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        guard count > 0 else {
            throw PersistenceError.conflict("the organization would have no enabled admin left; make another user admin first")
        }
    }

    static let columns = columns(prefix: "")

    static func columns(prefix p: String) -> String {
        "\(p)id, \(p)organization_id, \(p)email, \(p)name, \(p)role, \(p)password_hash IS NOT NULL, \(p)disabled_at, \(p)created_at, \(p)last_sign_in_at"
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [User] {
        var users: [User] = []
        for try await (id, organizationID, email, name, role, hasPassword, disabledAt, createdAt, lastSignInAt) in rows.decode(
            (UUID, UUID, String, String, String, Bool, Date?, Date, Date?).self)
        {
            guard let role = UserRole(rawValue: role) else { continue }
            users.append(
                User(
                    id: id, organizationID: organizationID, email: email, name: name, role: role, hasPassword: hasPassword,
                    disabledAt: disabledAt, createdAt: createdAt, lastSignInAt: lastSignInAt))
        }
        return users
    }
}
