import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence

/// Wraps every `/console` request (matched or not): loads the session named by the cookie,
/// checks the CSRF token of every unsafe method, turns errors into HTML pages or a redirect to
/// sign-in, and sets the security headers on whatever goes out. API and webhook routes pass
/// straight through.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sessions: UserSessionStore
    let settings: ConsoleSettings
    let database: DatabaseAvailability
    let now: @Sendable () -> Date

    static let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path == ConsoleRoutes.prefix || path.hasPrefix(ConsoleRoutes.prefix + "/") else {
            return try await next(request, context)
        }
        var context = context
        var request = request
        var response: Response
        do {
            // The stylesheet and script need no session (and no database round trip).
            if !path.hasPrefix(ConsoleRoutes.prefix + "/static/"), let raw = request.cookies[settings.sessionCookieName]?.value,
                let token = RandomToken(parsing: raw)
            {
                context.consoleSessionToken = token
                let sessions = self.sessions
                let now = self.now()
                let logger = context.logger
                context.consoleSession = try await database.bounded { try await sessions.find(token, now: now, logger: logger) }
                if let user = context.consoleSession?.user {
                    context.logger[metadataKey: "user_id"] = .string(user.id.lowercasedString)
                }
            }
            if !Self.safeMethods.contains(request.method) {
                try await checkCSRF(&request, context: context)
            }
            response = try await next(request, context)
        } catch {
            response = errorResponse(for: error, request: request, context: context)
        }
        settings.applySecurityHeaders(to: &response.headers)
        return response
    }

    /// A signed-out form (sign-in, set password) must carry the value of its form cookie (double
    /// submit); every other form its session's token.
    func checkCSRF(_ request: inout Request, context: Context) async throws {
        let path = request.uri.path
        let signedOutForm = path == "/console/sign-in" || path == "/console/set-password"
        let expected: String? =
            if signedOutForm { request.cookies[settings.formCookieName]?.value } else { context.consoleSession?.csrfToken }
        var presented = request.headers[.csrfToken]
        if presented == nil, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let buffer = try await request.collectBody(upTo: ConsoleForm.maxSize)
            presented = ConsoleForm(encoded: String(buffer: buffer))["_csrf"]
        }
        guard let expected, !expected.isEmpty, let presented, Self.constantTimeEqual(expected, presented) else {
            throw ConsoleError.csrfRejected
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        // Equal-length digests compared with swift-crypto's constant-time ==.
        SHA256.hash(data: Data(a.utf8)) == SHA256.hash(data: Data(b.utf8))
    }

    func errorResponse(for error: any Error, request: Request, context: Context) -> Response {
        let consoleError: ConsoleError
        switch error {
        case let error as ConsoleError:
            consoleError = error
        case let error as PersistenceError:
            switch error {
            case .notFound: consoleError = .notFound
            default: return page(status: .conflict, message: error.description, context: context)
            }
        case let error as HTTPError where error.status == .notFound:
            consoleError = .notFound
        case let error as HTTPError where error.status == .contentTooLarge:
            return page(status: .contentTooLarge, message: "The form is too large.", context: context)
        default:
            let apiError = RequestMiddleware.apiError(for: error, logger: context.logger)
            let message =
                apiError.status == .serviceUnavailable
                ? "The database is unavailable. Try again in a moment."
                : "Something went wrong on the server. Quote request \(context.requestID) when reporting it."
            return page(status: apiError.status, message: message, context: context)
        }
        if case .signInRequired(let from) = consoleError {
            let target =
                request.method == .get && from != ConsoleRoutes.prefix
                ? "/console/sign-in?from=\(ConsoleSettings.escapeQuery(from))" : "/console/sign-in"
            return Response.redirect(to: target, type: .normal)
        }
        return page(status: consoleError.status, message: consoleError.message, context: context)
    }

    /// A plain page with the message, inside the layout when signed in.
    func page(status: HTTPResponse.Status, message: String, context: Context) -> Response {
        struct Content: Sendable {
            let status: Int
            let message: String
        }
        let title = status == .notFound ? "Not found" : status.reasonPhrase
        let view = ConsoleRenderer.View(
            layout: ConsoleRenderer.layout(title: title, page: nil, context: context),
            content: Content(status: status.code, message: message))
        if let renderer = ConsoleRenderer.bundled, let response = try? renderer.render("error", view, status: status, logger: context.logger) {
            return response
        }
        return ConsoleRenderer.html("<!doctype html><title>\(status.code)</title><p>\(status.code)</p>", status: status)
    }
}
