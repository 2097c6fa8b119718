import Foundation
import Hummingbird
import Persistence

/// `/console/users` (admins): the organization's people; invite (the one-time link shown once),
/// change a role, disable (their sessions end at once, on every instance).
struct ConsoleUsersController {
    let users: UserStore
    let settings: ConsoleSettings
    let database: DatabaseAvailability
    let now: @Sendable () -> Date

    struct UserRow: Sendable {
        let id: String
        let email: String
        let name: String
        let role: String
        let status: String
        let lastSignIn: String?
        let canDisable: Bool
    }

    struct Invitation: Sendable {
        let email: String
        let link: String
    }

    struct Content: Sendable {
        let users: [UserRow]
        let invitation: Invitation?
        let email: String
        let name: String
        let adminSelected: Bool
    }

    struct RoleContent: Sendable {
        let id: String
        let email: String
        let adminSelected: Bool
        let action: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        ConsoleRoutes.on(router, .get, "/users", use: list)
        ConsoleRoutes.on(router, .post, "/users", use: invite)
        ConsoleRoutes.on(router, .get, "/users/:id/role", use: rolePage)
        ConsoleRoutes.on(router, .post, "/users/:id/role", use: changeRole)
        ConsoleRoutes.on(router, .get, "/users/:id/disable", use: confirmDisable)
        ConsoleRoutes.on(router, .post, "/users/:id/disable", use: disable)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(context: context, notice: request.uri.queryParameters.get("done").flatMap(Self.notice))
    }

    static func notice(_ done: String) -> String? {
        switch done {
        case "role": "The role is changed."
        case "disabled": "The user is disabled and signed out everywhere."
        default: nil
        }
    }

    func page(
        context: AppRequestContext, invitation: Invitation? = nil, email: String = "", name: String = "", role: UserRole = .agent,
        notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let session = try Self.session(context)
        let (users, logger) = (self.users, context.logger)
        let list = try await database.bounded {
            try await users.list(organizationID: session.user.organizationID, logger: logger)
        }
        let rows = list.map { user in
            UserRow(
                id: user.id.lowercasedString, email: user.email, name: user.name, role: user.role.rawValue,
                status: user.disabledAt != nil ? "Disabled" : (user.hasPassword ? "Active" : "Invited"),
                lastSignIn: ConsoleFormat.date(user.lastSignInAt),
                canDisable: user.disabledAt == nil && user.id != session.user.id)
        }
        var layout = ConsoleRenderer.layout(title: "Users", page: .users, context: context)
        layout.notice = notice
        layout.error = error
        return try ConsoleRenderer.require().render(
            "users",
            .init(
                layout: layout,
                content: Content(users: rows, invitation: invitation, email: email, name: name, adminSelected: role == .admin)),
            status: status, logger: context.logger)
    }

    @Sendable func invite(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try Self.session(context)
        let form = try await ConsoleForm.read(request)
        let email = form.text("email").lowercased()
        let name = form.text("name")
        guard let role = UserRole(rawValue: form.text("role")) else {
            return try await page(
                context: context, email: email, name: name, error: "Choose the role admin or agent.", status: .unprocessableContent)
        }
        guard ConsoleFormat.isPlausibleEmail(email) else {
            return try await page(
                context: context, email: email, name: name, role: role, error: "Enter an email address like name@example.com.",
                status: .unprocessableContent)
        }
        guard name.count <= 200 else {
            return try await page(
                context: context, email: email, name: name, role: role, error: "Use at most 200 characters for the name.",
                status: .unprocessableContent)
        }
        let (users, actor, now, logger) = (self.users, context.actor, self.now(), context.logger)
        do {
            let (user, token) = try await database.bounded {
                try await users.invite(
                    organizationID: session.user.organizationID, email: email, name: name, role: role, actor: actor, now: now,
                    logger: logger)
            }
            return try await page(
                context: context,
                invitation: Invitation(email: user.email, link: Self.invitationLink(publicURL: settings.publicURL, token: token)))
        } catch PersistenceError.duplicate {
            return try await page(
                context: context, email: email, name: name, role: role, error: "\(email) is already a user of this organization.",
                status: .conflict)
        }
    }

    /// The link where the invited person sets a password.
    static func invitationLink(publicURL: String, token: RandomToken) -> String {
        "\(publicURL)/console/set-password?token=\(token.value)"
    }

    @Sendable func rolePage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try await find(context)
        return try ConsoleRenderer.require().render(
            "user-role",
            .init(
                layout: ConsoleRenderer.layout(title: "Change role", page: .users, context: context),
                content: RoleContent(
                    id: user.id.lowercasedString, email: user.email, adminSelected: user.role == .admin,
                    action: "/console/users/\(user.id.lowercasedString)/role")),
            logger: context.logger)
    }

    @Sendable func changeRole(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try await find(context)
        let form = try await ConsoleForm.read(request)
        guard let role = UserRole(rawValue: form.text("role")) else { throw ConsoleError.badForm("Choose the role admin or agent.") }
        let (users, actor, logger) = (self.users, context.actor, context.logger)
        _ = try await database.bounded {
            try await users.changeRole(organizationID: user.organizationID, id: user.id, role: role, actor: actor, logger: logger)
        }
        return .redirect(to: "/console/users?done=role", type: .normal)
    }

    @Sendable func confirmDisable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try await find(context)
        return try ConsoleRenderer.require().render(
            "confirm",
            .init(
                layout: ConsoleRenderer.layout(title: "Disable user", page: .users, context: context),
                content: ConfirmContent(
                    question: "Disable \(user.email)?",
                    detail: "They are signed out everywhere at once and cannot sign in again.",
                    action: "/console/users/\(user.id.lowercasedString)/disable", cancel: "/console/users")),
            logger: context.logger)
    }

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let session = try Self.session(context)
        let user = try await find(context)
        guard user.id != session.user.id else {
            throw PersistenceError.conflict("You cannot disable yourself; ask another admin.")
        }
        let (users, actor, now, logger) = (self.users, context.actor, self.now(), context.logger)
        _ = try await database.bounded {
            try await users.disable(organizationID: user.organizationID, id: user.id, actor: actor, now: now, logger: logger)
        }
        return .redirect(to: "/console/users?done=disabled", type: .normal)
    }

    /// The organization's user named by the path; another organization's is not found.
    func find(_ context: AppRequestContext) async throws -> User {
        let session = try Self.session(context)
        guard let id = UUID(uuidString: try context.pathParameter("id")) else { throw ConsoleError.notFound }
        let (users, logger) = (self.users, context.logger)
        guard
            let user = try await database.bounded({
                try await users.find(organizationID: session.user.organizationID, id: id, logger: logger)
            })
        else { throw ConsoleError.notFound }
        return user
    }

    static func session(_ context: AppRequestContext) throws -> UserSession {
        guard let session = context.consoleSession else { throw ConsoleError.signInRequired(from: "/console/users") }
        return session
    }
}
