import Foundation
import Hummingbird
import Persistence

/// `/api/v1/organizations/{org}/audit-events`: newest first, paginated by event id.
struct AuditController {
    let organizations: OrganizationStore
    let audit: AuditStore

    struct EventResponse: Encodable {
        let id: Int64
        let actorKeyID: String?
        let actorName: String
        let actorType: String
        let actorUserID: String?
        let actorEmail: String?
        let action: String
        let target: String
        let at: Date
        let details: [String: String]

        enum CodingKeys: String, CodingKey {
            case id, action, target, at, details
            case actorKeyID = "actor_key_id"
            case actorName = "actor_name"
            case actorType = "actor_type"
            case actorUserID = "actor_user_id"
            case actorEmail = "actor_email"
        }
    }

    struct ListResponse: ResponseEncodable {
        let events: [EventResponse]
        let nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case events
            case nextCursor = "next_cursor"
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("/organizations/:org/audit-events") { request, context in
            _ = try context.requireRole([.admin], to: "read the audit log")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let page = try Page(request: request)
            var cursor: Int64?
            if let raw = page.cursor {
                guard let value = Int64(raw) else {
                    throw APIError.badRequest("invalid_query", "'cursor' must be a next_cursor from a previous page")
                }
                cursor = value
            }
            let events = try await audit.list(
                organizationID: organization.id, before: cursor, limit: page.limit + 1, logger: context.logger)
            let items = events.prefix(page.limit)
            return ListResponse(
                events: items.map {
                    EventResponse(
                        id: $0.id, actorKeyID: $0.actorKeyID?.lowercasedString, actorName: $0.actorName,
                        actorType: $0.actorType.rawValue, actorUserID: $0.actorUserID?.lowercasedString,
                        actorEmail: $0.actorEmail, action: $0.action,
                        target: $0.target, at: $0.at, details: $0.details)
                },
                nextCursor: events.count > page.limit ? items.last.map { String($0.id) } : nil)
        }
    }
}
