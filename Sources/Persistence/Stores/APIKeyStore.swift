import Crypto
import Foundation
import Logging
import PostgresNIO

/// API keys in PostgreSQL: created once, listed without secrets, revoked, authenticated.
public struct APIKeyStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Creates a key; the returned token is the only time its secret exists outside the client.
    /// `organizationID` is nil exactly for platform keys.
    public func create(
        organizationID: UUID?, name: String, role: APIKeyRole, expiresAt: Date?, actor: Actor, logger: Logger
    ) async throws -> (key: APIKey, token: APIKeyToken) {
        guard (role == .platform) == (organizationID == nil) else {
            throw PersistenceError.conflict("platform keys, and only they, belong to no organization")
        }
        let token = APIKeyToken.generate()
        let id = UUID()
        let hash = Data(token.secretHash)
        return try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, role, expires_at)
                VALUES (\(id), \(organizationID), \(name), \(token.prefix), \(hash), \(role.rawValue), \(expiresAt))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let key = try await Self.decode(rows).first else { throw PersistenceError.notFound("API key") }
            if let organizationID {
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: organizationID, actor: actor, action: "api_key.create", target: id.uuidString.lowercased(),
                        details: ["name": name, "role": role.rawValue, "prefix": token.prefix]),
                    on: connection, logger: logger)
            }
            return (key, token)
        }
    }

    /// The organization's keys, oldest first.
    public func list(organizationID: UUID, logger: Logger) async throws -> [APIKey] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM api_keys
            WHERE organization_id = \(organizationID) ORDER BY created_at, id
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Revokes one of the organization's keys; revoking twice is harmless and audited once.
    public func revoke(organizationID: UUID, keyID: UUID, actor: Actor, logger: Logger) async throws -> APIKey {
        try await client.inTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE api_keys SET revoked_at = now()
                WHERE organization_id = \(organizationID) AND id = \(keyID) AND revoked_at IS NULL
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            if let key = try await Self.decode(rows).first {
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: organizationID, actor: actor, action: "api_key.revoke",
                        target: keyID.uuidString.lowercased(), details: ["name": key.name, "role": key.role.rawValue]),
                    on: connection, logger: logger)
                return key
            }
            let existing = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM api_keys WHERE organization_id = \(organizationID) AND id = \(keyID)",
                logger: logger)
            guard let key = try await Self.decode(existing).first else { throw PersistenceError.notFound("API key") }
            return key
        }
    }

    /// Checks a presented key: shape, prefix, constant-time secret comparison, revocation, expiry.
    public func authenticate(_ presented: String, now: Date = Date(), logger: Logger) async throws
        -> Result<AuthenticatedKey, AuthenticationFailure>
    {
        guard let token = APIKeyToken(parsing: presented) else { return .failure(.invalid) }
        let rows = try await client.execute(HotPathStatements.APIKeyByPrefix(prefix: token.prefix), logger: logger)
        let candidate = token.secretHash
        for try await (id, name, role, organizationID, slug, hash, expiresAt, revokedAt, lastUsedAt, disabledAt) in rows {
            // Digest == DataProtocol is swift-crypto's constant-time comparison.
            guard candidate == hash, let role = APIKeyRole(rawValue: role) else { return .failure(.invalid) }
            if revokedAt != nil { return .failure(.revoked) }
            if let expiresAt, expiresAt <= now { return .failure(.expired) }
            if disabledAt != nil { return .failure(.organizationDisabled) }
            if lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
                // At most one write a minute per key keeps authentication read-only on the hot path.
                try await client.query("UPDATE api_keys SET last_used_at = \(now) WHERE id = \(id)", logger: logger)
            }
            return .success(
                AuthenticatedKey(id: id, name: name, role: role, organizationID: organizationID, organizationSlug: slug))
        }
        return .failure(.invalid)
    }

    static let columns = "id, organization_id, name, prefix, role, created_at, expires_at, revoked_at, last_used_at"

    static func decode(_ rows: PostgresRowSequence) async throws -> [APIKey] {
        var keys: [APIKey] = []
        for try await (id, organizationID, name, prefix, role, createdAt, expiresAt, revokedAt, lastUsedAt) in rows.decode(
            (UUID, UUID?, String, String, String, Date, Date?, Date?, Date?).self)
        {
            guard let role = APIKeyRole(rawValue: role) else { continue }
            keys.append(
                APIKey(
                    id: id, organizationID: organizationID, name: name, prefix: prefix, role: role,
                    createdAt: createdAt, expiresAt: expiresAt, revokedAt: revokedAt, lastUsedAt: lastUsedAt))
        }
        return keys
    }
}
