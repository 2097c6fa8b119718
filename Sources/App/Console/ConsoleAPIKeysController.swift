import Foundation
import Hummingbird
import Persistence

/// `/console/api-keys` (admins): the organization's keys, creating one (shown once) and revoking
/// one after a confirmation, through the same store and rules as the API's routes.
struct ConsoleAPIKeysController {
    let keys: APIKeyStore
    let database: DatabaseAvailability
    let now: @Sendable () -> Date

    struct KeyRow: Sendable {
        let id: String
        let name: String
        let prefix: String
        let role: String
        let created: String
        let lastUsed: String?
        let expires: String?
        let revoked: String?
    }

    struct NewKey: Sendable {
        let name: String
        let value: String
    }

    struct Content: Sendable {
        let keys: [KeyRow]
        let newKey: NewKey?
        let name: String
        let serviceSelected: Bool
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        ConsoleRoutes.on(router, .get, "/api-keys", use: list)
        ConsoleRoutes.on(router, .post, "/api-keys", use: create)
        ConsoleRoutes.on(router, .get, "/api-keys/:id/revoke", use: confirmRevoke)
        ConsoleRoutes.on(router, .post, "/api-keys/:id/revoke", use: revoke)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        var notice: String?
        if let revoked = request.uri.queryParameters.get("revoked") {
            notice = "Key \(revoked) is revoked: requests with it are refused from now on."
        }
        return try await page(context: context, notice: notice)
    }

    func page(
        context: AppRequestContext, newKey: NewKey? = nil, name: String = "", role: APIKeyRole = .service, notice: String? = nil,
        error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let organizationID = try Self.organizationID(context)
        let (keys, logger) = (self.keys, context.logger)
        let list = try await database.bounded { try await keys.list(organizationID: organizationID, logger: logger) }
        let rows = list.map {
            KeyRow(
                id: $0.id.lowercasedString, name: $0.name, prefix: $0.prefix, role: $0.role.rawValue,
                created: ConsoleFormat.date($0.createdAt) ?? "", lastUsed: ConsoleFormat.date($0.lastUsedAt),
                expires: ConsoleFormat.date($0.expiresAt), revoked: ConsoleFormat.date($0.revokedAt))
        }
        var layout = ConsoleRenderer.layout(title: "API keys", page: .apiKeys, context: context)
        layout.notice = notice
        layout.error = error
        return try ConsoleRenderer.require().render(
            "api-keys",
            .init(layout: layout, content: Content(keys: rows, newKey: newKey, name: name, serviceSelected: role != .admin)),
            status: status, logger: context.logger)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let organizationID = try Self.organizationID(context)
        let form = try await ConsoleForm.read(request)
        let name = form.text("name")
        guard let role = APIKeyRole(rawValue: form.text("role")), role == .admin || role == .service else {
            return try await page(context: context, name: name, error: "Choose the role admin or service.", status: .unprocessableContent)
        }
        guard (1...200).contains(name.count) else {
            return try await page(
                context: context, name: name, role: role, error: "Give the key a name of 1 to 200 characters.",
                status: .unprocessableContent)
        }
        let (keys, actor, logger) = (self.keys, context.actor, context.logger)
        let (key, token) = try await database.bounded {
            try await keys.create(
                organizationID: organizationID, name: name, role: role, expiresAt: nil, actor: actor, logger: logger)
        }
        return try await page(context: context, newKey: NewKey(name: key.name, value: token.value))
    }

    @Sendable func confirmRevoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = try await find(context)
        return try ConsoleRenderer.require().render(
            "confirm",
            .init(
                layout: ConsoleRenderer.layout(title: "Revoke API key", page: .apiKeys, context: context),
                content: ConfirmContent(
                    question: "Revoke the key “\(key.name)” (\(key.prefix))?",
                    detail: "Every request made with it is refused from then on. This cannot be undone.",
                    action: "/console/api-keys/\(key.id.lowercasedString)/revoke", cancel: "/console/api-keys")),
            logger: context.logger)
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = try await find(context)
        let (keys, actor, logger) = (self.keys, context.actor, context.logger)
        let organizationID = try Self.organizationID(context)
        _ = try await database.bounded {
            try await keys.revoke(organizationID: organizationID, keyID: key.id, actor: actor, logger: logger)
        }
        return .redirect(to: "/console/api-keys?revoked=\(key.prefix)", type: .normal)
    }

    /// The organization's key named by the path; another organization's is not found.
    func find(_ context: AppRequestContext) async throws -> APIKey {
        let organizationID = try Self.organizationID(context)
        guard let id = UUID(uuidString: try context.pathParameter("id")) else { throw ConsoleError.notFound }
        let (keys, logger) = (self.keys, context.logger)
        let list = try await database.bounded { try await keys.list(organizationID: organizationID, logger: logger) }
        guard let key = list.first(where: { $0.id == id }) else { throw ConsoleError.notFound }
        return key
    }

    static func organizationID(_ context: AppRequestContext) throws -> UUID {
        guard let session = context.consoleSession else { throw ConsoleError.signInRequired(from: "/console/api-keys") }
        return session.user.organizationID
    }
}
