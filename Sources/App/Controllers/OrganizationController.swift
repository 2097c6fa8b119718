import Foundation
import Hummingbird
import Persistence

/// `/api/v1/organizations`: platform keys create and list; any key reads its own.
struct OrganizationController {
    let organizations: OrganizationStore

    struct CreateRequest: StrictRequestBody {
        static let fields: Set<String> = ["slug", "name"]
        let slug: String
        let name: String
    }

    struct OrganizationResponse: ResponseEncodable {
        let id: String
        let slug: String
        let name: String
        let createdAt: Date
        let disabledAt: Date?

        init(_ organization: Organization) {
            id = organization.id.lowercasedString
            slug = organization.slug
            name = organization.name
            createdAt = organization.createdAt
            disabledAt = organization.disabledAt
        }

        enum CodingKeys: String, CodingKey {
            case id, slug, name
            case createdAt = "created_at"
            case disabledAt = "disabled_at"
        }
    }

    struct ListResponse: ResponseEncodable {
        let organizations: [OrganizationResponse]
        let nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case organizations
            case nextCursor = "next_cursor"
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("/organizations") { request, context in
            var request = request
            guard try context.requireKey().role == .platform else {
                throw APIError.forbidden("only a platform key can create organizations")
            }
            let body = try await request.decodeStrict(CreateRequest.self, context: context)
            let (slug, name) = try Self.validate(slug: body.slug, name: body.name)
            let organization = try await organizations.create(
                slug: slug, name: name, actor: context.actor, logger: context.logger)
            return EditedResponse(status: .created, response: OrganizationResponse(organization))
        }
        group.get("/organizations") { request, context in
            guard try context.requireKey().role == .platform else {
                throw APIError.forbidden("only a platform key can list organizations")
            }
            let page = try Page(request: request)
            let found = try await organizations.list(after: page.cursor, limit: page.limit + 1, logger: context.logger)
            let items = Array(found.prefix(page.limit))
            return ListResponse(
                organizations: items.map(OrganizationResponse.init),
                nextCursor: found.count > page.limit ? items.last?.slug : nil)
        }
        group.get("/organizations/:org") { _, context in
            OrganizationResponse(try await context.organization(context.pathParameter("org"), store: organizations))
        }
    }

    /// Slugs: 2–63 of a-z, 0-9 and '-', starting with a letter or digit, and not shaped like a UUID.
    static func validate(slug: String, name: String) throws(APIError) -> (String, String) {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        var problems: [String] = []
        let isSlug =
            (2...63).contains(slug.count)
            && slug.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
            && slug.first != "-"
        if !isSlug || UUID(uuidString: slug) != nil {
            problems.append("'slug' must be 2-63 characters of a-z, 0-9 and '-', not starting with '-'")
        }
        if name.isEmpty || name.count > 200 {
            problems.append("'name' must be 1-200 characters")
        }
        guard problems.isEmpty else {
            throw APIError.badRequest("invalid_field", problems.joined(separator: "; "))
        }
        return (slug, name)
    }
}

/// `?limit=&cursor=` of a paginated list.
struct Page {
    static let defaultLimit = 50
    static let maxLimit = 200

    let limit: Int
    let cursor: String?

    init(request: Request) throws(APIError) {
        let query = request.uri.queryParameters
        if let raw = query.get("limit") {
            guard let limit = Int(raw), (1...Self.maxLimit).contains(limit) else {
                throw APIError.badRequest("invalid_query", "'limit' must be an integer from 1 to \(Self.maxLimit)")
            }
            self.limit = limit
        } else {
            self.limit = Self.defaultLimit
        }
        cursor = query.get("cursor").flatMap { $0.isEmpty ? nil : $0 }
    }
}
