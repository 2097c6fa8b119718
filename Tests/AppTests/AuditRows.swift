import Foundation
import Persistence
import PostgresNIO
import TestSupport

/// One stored audit event, with the role of the API key that acted (for tests of which writes are audited).
struct AuditRow {
    let actorType: String
    /// The acting key's role and organization (nil for users, the CLI and the server).
    let keyRole: String?
    let keyOrganizationID: UUID?
    let actorUserID: UUID?
    let target: String
    let details: [String: String]
    /// The stored details, as text, to search for what must never be there.
    let detailsText: String

    /// The organization's audit events with `action`, oldest first.
    static func all(_ postgres: PostgresClient, organizationID: UUID, action: String) async throws -> [AuditRow] {
        let rows = try await postgres.query(
            """
            SELECT a.actor_type, k.role, k.organization_id, a.actor_user_id, a.target, a.details::text
            FROM audit_events a LEFT JOIN api_keys k ON k.id = a.actor_key_id
            WHERE a.organization_id = \(organizationID) AND a.action = \(action)
            ORDER BY a.id
            """, logger: TestDatabase.logger)
        var found: [AuditRow] = []
        for try await (type, role, keyOrganization, userID, target, details) in rows.decode(
            (String, String?, UUID?, UUID?, String, String).self)
        {
            found.append(
                AuditRow(
                    actorType: type, keyRole: role, keyOrganizationID: keyOrganization, actorUserID: userID,
                    target: target,
                    details: (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:],
                    detailsText: details))
        }
        return found
    }

    /// Every audit event of the organization whose action starts with `prefix`.
    static func count(_ postgres: PostgresClient, organizationID: UUID, prefix: String) async throws -> Int {
        let rows = try await postgres.query(
            """
            SELECT count(*) FROM audit_events
            WHERE organization_id = \(organizationID) AND starts_with(action, \(prefix))
            """, logger: TestDatabase.logger)
        for try await count in rows.decode(Int.self) { return count }
        return -1
    }
}
