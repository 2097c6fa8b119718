import Foundation
import Hummingbird
import Persistence

/// `/api/v1/organizations/{org}/api-keys`: admins create, list and revoke their organization's keys.
struct APIKeyController {
    let organizations: OrganizationStore
    let keys: APIKeyStore

    struct CreateRequest: StrictRequestBody {
        static let fields: Set<String> = ["name", "role", "expires_at"]
        let name: String
        let role: String
        let expiresAt: Date?

        enum CodingKeys: String, CodingKey {
            case name, role
            case expiresAt = "expires_at"
        }
    }

    /// A key as listed: never its secret or hash.
    struct KeyResponse: ResponseEncodable {
        let id: String
        let organizationID: String?
        let name: String
        let prefix: String
        let role: APIKeyRole
        let createdAt: Date
        let expiresAt: Date?
        let revokedAt: Date?
        let lastUsedAt: Date?
        /// Only in the creation response: the whole key, shown once.
        var key: String? = nil

        init(_ key: APIKey, token: APIKeyToken? = nil) {
            id = key.id.lowercasedString
            organizationID = key.organizationID?.lowercasedString
            name = key.name
            prefix = key.prefix
            role = key.role
            createdAt = key.createdAt
            expiresAt = key.expiresAt
            revokedAt = key.revokedAt
            lastUsedAt = key.lastUsedAt
            self.key = token?.value
        }

        enum CodingKeys: String, CodingKey {
            case id, name, prefix, role, key
            case organizationID = "organization_id"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case revokedAt = "revoked_at"
            case lastUsedAt = "last_used_at"
        }
    }

    struct ListResponse: ResponseEncodable {
        let apiKeys: [KeyResponse]
        enum CodingKeys: String, CodingKey { case apiKeys = "api_keys" }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("/organizations/:org/api-keys") { request, context in
            var request = request
            _ = try context.requireRole([.admin], to: "create API keys")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let body = try await request.decodeStrict(CreateRequest.self, context: context)
            let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, name.count <= 200 else {
                throw APIError.badRequest("invalid_field", "'name' must be 1-200 characters")
            }
            guard let role = APIKeyRole(rawValue: body.role), role != .platform else {
                throw APIError.badRequest("invalid_field", "'role' must be 'admin' or 'service'")
            }
            if let expiresAt = body.expiresAt, expiresAt <= Date() {
                throw APIError.badRequest("invalid_field", "'expires_at' must be in the future")
            }
            let (key, token) = try await keys.create(
                organizationID: organization.id, name: name, role: role, expiresAt: body.expiresAt,
                actor: context.actor, logger: context.logger)
            return EditedResponse(status: .created, response: KeyResponse(key, token: token))
        }
        group.get("/organizations/:org/api-keys") { _, context in
            _ = try context.requireRole([.admin], to: "list API keys")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let list = try await keys.list(organizationID: organization.id, logger: context.logger)
            return ListResponse(apiKeys: list.map { KeyResponse($0) })
        }
        group.delete("/organizations/:org/api-keys/:id") { _, context in
            _ = try context.requireRole([.admin], to: "revoke API keys")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            guard let id = UUID(uuidString: try context.pathParameter("id")) else {
                throw APIError.notFound("not_found", "API key not found")
            }
            let key = try await keys.revoke(
                organizationID: organization.id, keyID: id, actor: context.actor, logger: context.logger)
            return KeyResponse(key)
        }
    }
}
