import Foundation
import Logging
import PostgresNIO

/// Organizations in PostgreSQL.
public struct OrganizationStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Creates an organization; `.duplicate` when the slug is taken.
    public func create(slug: String, name: String, actor: Actor, logger: Logger) async throws -> Organization {
        let id = UUID()
        do {
            return try await client.inTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO organizations (id, slug, name) VALUES (\(id), \(slug), \(name))
                    RETURNING id, slug, name, created_at, disabled_at
                    """, logger: logger)
                guard let organization = try await Self.decode(rows).first else {
                    throw PersistenceError.notFound("organization")
                }
                try await AuditStore.record(
                    AuditStore.Entry(
                        organizationID: id, actor: actor, action: "organization.create", target: slug,
                        details: ["name": name]),
                    on: connection, logger: logger)
                return organization
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            throw PersistenceError.duplicate("an organization with slug '\(slug)'")
        }
    }

    /// The organization whose id (UUID text) or slug is `reference`.
    public func find(_ reference: String, logger: Logger) async throws -> Organization? {
        // Every webhook and many API requests start here: a prepared statement each way.
        if let id = UUID(uuidString: reference) {
            for try await (id, slug, name, createdAt, disabledAt) in try await client.execute(
                HotPathStatements.OrganizationByID(id: id), logger: logger)
            {
                return Organization(id: id, slug: slug, name: name, createdAt: createdAt, disabledAt: disabledAt)
            }
            return nil
        }
        for try await (id, slug, name, createdAt, disabledAt) in try await client.execute(
            HotPathStatements.OrganizationBySlug(slug: reference), logger: logger)
        {
            return Organization(id: id, slug: slug, name: name, createdAt: createdAt, disabledAt: disabledAt)
        }
        return nil
    }

    /// Organizations ordered by slug, `limit` of them after the slug `cursor`.
    public func list(after cursor: String?, limit: Int, logger: Logger) async throws -> [Organization] {
        let rows = try await client.query(
            """
            SELECT id, slug, name, created_at, disabled_at FROM organizations
            WHERE \(cursor == nil) OR slug > \(cursor ?? "")
            ORDER BY slug LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [Organization] {
        var organizations: [Organization] = []
        for try await (id, slug, name, createdAt, disabledAt) in rows.decode((UUID, String, String, Date, Date?).self) {
            organizations.append(
                Organization(id: id, slug: slug, name: name, createdAt: createdAt, disabledAt: disabledAt))
        }
        return organizations
    }
}
