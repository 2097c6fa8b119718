import Foundation
import Logging
import PostgresNIO

/// One entry of an organization's audit log.
public struct AuditEvent: Sendable, Equatable, Codable {
    public let id: Int64
    public let organizationID: UUID
    public let actorKeyID: UUID?
    public let actorName: String
    /// `api_key`, `user`, `cli` or `system`.
    public let actorType: Actor.Kind
    /// The console user, for `user` actors.
    public let actorUserID: UUID?
    /// The console user's email at the time, for `user` actors.
    public let actorEmail: String?
    public let action: String
    public let target: String
    public let at: Date
    public let details: [String: String]

    enum CodingKeys: String, CodingKey {
        case id, action, target, at, details
        case organizationID = "organization_id"
        case actorKeyID = "actor_key_id"
        case actorName = "actor_name"
        case actorType = "actor_type"
        case actorUserID = "actor_user_id"
        case actorEmail = "actor_email"
    }
}

/// The append-only audit log. Entries are written in the same transaction as the change.
public struct AuditStore: Sendable {
    /// What to record; `details` must never hold a secret, masked or not.
    public struct Entry: Sendable {
        public let organizationID: UUID
        public let actor: Actor
        public let action: String
        public let target: String
        public let details: [String: String]

        public init(organizationID: UUID, actor: Actor, action: String, target: String, details: [String: String] = [:]) {
            self.organizationID = organizationID
            self.actor = actor
            self.action = action
            self.target = target
            self.details = details
        }
    }

    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    static func record(_ entry: Entry, on connection: PostgresConnection, logger: Logger) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.details), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO audit_events (organization_id, actor_type, actor_key_id, actor_user_id, actor_email, actor_name,
                                      action, target, details)
            VALUES (\(entry.organizationID), \(entry.actor.kind.rawValue), \(entry.actor.keyID), \(entry.actor.userID),
                    \(entry.actor.email), \(entry.actor.name), \(entry.action), \(entry.target), \(details)::jsonb)
            """, logger: logger)
    }

    /// Newest first: `limit` events older than the event id `cursor`.
    public func list(organizationID: UUID, before cursor: Int64?, limit: Int, logger: Logger) async throws
        -> [AuditEvent]
    {
        let rows = try await client.query(
            """
            SELECT id, organization_id, actor_key_id, actor_name, actor_type, actor_user_id, actor_email, action, target, at,
                   details::text
            FROM audit_events
            WHERE organization_id = \(organizationID) AND (\(cursor == nil) OR id < \(cursor ?? 0))
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var events: [AuditEvent] = []
        let decoder = JSONDecoder()
        for try await (id, organizationID, actorKeyID, actorName, actorType, actorUserID, actorEmail, action, target, at, details)
            in rows.decode((Int64, UUID, UUID?, String, String, UUID?, String?, String, String, Date, String).self)
        {
            events.append(
                AuditEvent(
                    id: id, organizationID: organizationID, actorKeyID: actorKeyID, actorName: actorName,
                    actorType: Actor.Kind(rawValue: actorType) ?? .system, actorUserID: actorUserID, actorEmail: actorEmail,
                    action: action, target: target, at: at,
                    details: (try? decoder.decode([String: String].self, from: Data(details.utf8))) ?? [:]))
        }
        return events
    }
}
