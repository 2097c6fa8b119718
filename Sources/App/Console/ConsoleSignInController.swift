import Foundation
import Hummingbird
import Logging
import Persistence

/// `/console/sign-in`, `/console/sign-out` and `/console/set-password?token=…`: people become
/// signed-in users here. The invitation token travels in the query and the form, never the path,
/// so request logs and path metrics never hold it. Sign-in failures are throttled per account and per address, and an
/// unknown email reads exactly like a wrong password.
struct ConsoleSignInController {
    let users: UserStore
    let sessions: UserSessionStore
    let throttle: SignInThrottle
    let hasher: PasswordHasher
    let settings: ConsoleSettings
    let database: DatabaseAvailability
    let now: @Sendable () -> Date

    static let failedMessage = "The email or password is not right."
    static let throttledMessage = "Too many failed sign-ins. Wait 15 minutes and try again."

    struct SignInContent: Sendable {
        let email: String
        let from: String
    }

    struct SetPasswordContent: Sendable {
        let email: String
        let token: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        ConsoleRoutes.on(router, .get, "/", use: home)
        ConsoleRoutes.on(router, .get, "/sign-in", use: signInPage)
        ConsoleRoutes.on(router, .post, "/sign-in", use: signIn)
        ConsoleRoutes.on(router, .post, "/sign-out", use: signOut)
        ConsoleRoutes.on(router, .get, "/set-password", use: setPasswordPage)
        ConsoleRoutes.on(router, .post, "/set-password", use: setPassword)
    }

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        let role = context.consoleSession?.user.role ?? .agent
        return .redirect(to: ConsolePage.home(for: role).path, type: .normal)
    }

    @Sendable func signInPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let session = context.consoleSession {
            return .redirect(to: ConsolePage.home(for: session.user.role).path, type: .normal)
        }
        let from = request.uri.queryParameters.get("from") ?? ""
        return try signInForm(email: "", from: from, context: context, request: request)
    }

    /// The sign-in form, with a fresh form cookie when the browser has none.
    func signInForm(
        email: String, from: String, error: String? = nil, notice: String? = nil, status: HTTPResponse.Status = .ok,
        context: AppRequestContext, request: Request
    ) throws -> Response {
        let (token, cookie) = formToken(request)
        var layout = ConsoleRenderer.layout(title: "Sign in", page: nil, context: context, csrfToken: token)
        layout.error = error
        layout.notice = notice
        var response = try ConsoleRenderer.require().render(
            "sign-in", .init(layout: layout, content: SignInContent(email: email, from: Self.safeReturn(from) ?? "")),
            status: status, logger: context.logger)
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// The browser's form token, or a new one and the cookie carrying it.
    func formToken(_ request: Request) -> (String, Cookie?) {
        if let existing = request.cookies[settings.formCookieName]?.value, RandomToken(parsing: existing) != nil {
            return (existing, nil)
        }
        let token = RandomToken.generate().value
        return (token, settings.formCookie(token))
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        let email = form.text("email").lowercased()
        let password = form["password"] ?? ""
        let from = form.text("from")
        let address = context.remoteAddress ?? "unknown"
        let logger = context.logger
        let now = self.now()
        let (throttle, users) = (self.throttle, self.users)
        if try await database.bounded({ try await throttle.isBlocked(account: email, address: address, now: now, logger: logger) }) {
            logger.notice("console sign-in throttled")
            return try signInForm(
                email: email, from: from, error: Self.throttledMessage, status: .tooManyRequests, context: context,
                request: request)
        }
        let candidates = try await database.bounded { try await users.credentials(email: email, logger: logger) }
        var matched: UserStore.Credential?
        for candidate in candidates {
            if try await hasher.verify(password, hash: candidate.passwordHash) {
                matched = candidate
                break
            }
        }
        if candidates.isEmpty { try await hasher.burnVerification(password) }
        guard let matched else {
            try await database.bounded { try await throttle.recordFailure(account: email, address: address, now: now, logger: logger) }
            logger.notice("console sign-in failed")
            return try signInForm(
                email: email, from: from, error: Self.failedMessage, status: .unauthorized, context: context, request: request)
        }
        let user = matched.user
        let (sessions, previous) = (self.sessions, context.consoleSessionToken)
        let token = try await database.bounded {
            try await throttle.clear(account: email, logger: logger)
            try await users.recordSignIn(organizationID: user.organizationID, userID: user.id, now: now, logger: logger)
            return try await sessions.create(
                organizationID: user.organizationID, userID: user.id, replacing: previous, now: now, logger: logger)
        }
        logger.info("console sign-in", metadata: ["user_id": .string(user.id.lowercasedString)])
        var response = Response.redirect(to: Self.safeReturn(from) ?? ConsolePage.home(for: user.role).path, type: .normal)
        response.setCookie(settings.sessionCookie(token.value))
        return response
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let token = context.consoleSessionToken {
            let (sessions, logger) = (self.sessions, context.logger)
            try await database.bounded { try await sessions.delete(token, logger: logger) }
        }
        var response = Response.redirect(to: "/console/sign-in", type: .normal)
        response.setCookie(settings.expiredSessionCookie())
        return response
    }

    @Sendable func setPasswordPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token") ?? ""
        guard let parsed = RandomToken(parsing: token),
            let user = try await invitation(parsed, context: context)
        else { return try expiredLink(context: context) }
        return try setPasswordForm(user: user, token: token, context: context, request: request)
    }

    func setPasswordForm(
        user: User, token: String, error: String? = nil, status: HTTPResponse.Status = .ok, context: AppRequestContext,
        request: Request
    ) throws -> Response {
        let (formToken, cookie) = formToken(request)
        var layout = ConsoleRenderer.layout(title: "Set password", page: nil, context: context, csrfToken: formToken)
        layout.error = error
        var response = try ConsoleRenderer.require().render(
            "set-password", .init(layout: layout, content: SetPasswordContent(email: user.email, token: token)),
            status: status, logger: context.logger)
        if let cookie { response.setCookie(cookie) }
        return response
    }

    func invitation(_ token: RandomToken, context: AppRequestContext) async throws -> User? {
        let (users, now, logger) = (self.users, self.now(), context.logger)
        return try await database.bounded { try await users.invitation(token, now: now, logger: logger) }
    }

    func expiredLink(context: AppRequestContext) throws -> Response {
        struct Content: Sendable {
            let status: Int
            let message: String
        }
        return try ConsoleRenderer.require().render(
            "error",
            .init(
                layout: ConsoleRenderer.layout(title: "Link not valid", page: nil, context: context),
                content: Content(
                    status: 404,
                    message: "This invitation link is not valid: it was used already, it expired (links last 24 hours), or it was replaced by a newer one. Ask an admin for a new invitation.")),
            status: .notFound, logger: context.logger)
    }

    @Sendable func setPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        let token = form.text("token")
        guard let parsed = RandomToken(parsing: token), let user = try await invitation(parsed, context: context) else {
            return try expiredLink(context: context)
        }
        let password = form["new_password"] ?? ""
        if let problem = PasswordHasher.problem(with: password, confirmation: form["confirm_password"] ?? "") {
            return try setPasswordForm(
                user: user, token: token, error: problem, status: .unprocessableContent, context: context, request: request)
        }
        let hash = try await hasher.hash(password)
        let (users, now, logger) = (self.users, self.now(), context.logger)
        guard try await database.bounded({ try await users.acceptInvitation(parsed, passwordHash: hash, now: now, logger: logger) }) != nil
        else { return try expiredLink(context: context) }
        return try signInForm(
            email: user.email, from: "", notice: "Your password is set. Sign in with it.", context: context, request: request)
    }

    /// `from` when it is a console page of this server (never another host), else nil.
    static func safeReturn(_ from: String) -> String? {
        guard from.hasPrefix("/console/"), !from.hasPrefix("//"), !from.contains("\\"), !from.contains("://"),
            !from.hasPrefix("/console/sign-"), !from.hasPrefix("/console/static/")
        else { return nil }
        return from
    }
}
