import Foundation
import Hummingbird
import Persistence

extension AppRequestContext {
    /// The caller's key when its role is one of `roles` (platform keys are always allowed: they
    /// are the operator's); else 403.
    func requireRole(_ roles: Set<APIKeyRole>, to action: String) throws(APIError) -> AuthenticatedKey {
        let key = try requireKey()
        guard key.role == .platform || roles.contains(key.role) else {
            throw APIError.forbidden("a \(key.role.rawValue) key cannot \(action)")
        }
        return key
    }

    /// The organization named by the path's `{org}` (id or slug) that this key may act on.
    ///
    /// Another tenant's organization is reported exactly like a missing one, so keys cannot
    /// probe which organizations exist.
    func organization(_ reference: String, store: OrganizationStore) async throws -> Organization {
        let key = try requireKey()
        let notFound = APIError.notFound("organization_not_found", "no organization '\(reference)' is visible to this key")
        if key.role != .platform {
            let matchesID = UUID(uuidString: reference).map { $0 == key.organizationID } ?? false
            guard matchesID || reference == key.organizationSlug else { throw notFound }
        }
        guard let organization = try await store.find(reference, logger: logger) else { throw notFound }
        return organization
    }

    /// The actor recorded in the audit log for this request.
    var actor: Actor {
        if let user = consoleSession?.user { return .user(id: user.id, email: user.email) }
        return Actor(keyID: apiKey?.id, name: apiKey?.name ?? "anonymous")
    }

    /// The path parameter `name`, or 400.
    func pathParameter(_ name: String) throws(APIError) -> String {
        guard let value = parameters.get(name) else {
            throw APIError.badRequest("missing_parameter", "the path needs '\(name)'")
        }
        return value
    }
}
