import HTTPTypes
import Hummingbird
import Persistence

/// Who may use a console route.
enum ConsoleAccess: Sendable, Equatable {
    /// No session needed: sign-in, setting a password from an invitation, the stylesheet.
    case anyone
    /// A signed-in user with one of these roles.
    case signedIn(Set<UserRole>)

    static let everyone = ConsoleAccess.signedIn(Set(UserRole.allCases))
    static let admins = ConsoleAccess.signedIn([.admin])
}

/// The console's routes and who may use each: the one place the access policy is written.
/// `ConsoleRoutes.on` refuses to register a route missing here, and `ConsoleRoleTests` walks the
/// router's routes against this table.
enum ConsoleRoutes {
    static let prefix = "/console"

    static let access: [String: ConsoleAccess] = [
        "GET /console": .everyone,
        "GET /console/sign-in": .anyone,
        "POST /console/sign-in": .anyone,
        "POST /console/sign-out": .everyone,
        "GET /console/set-password": .anyone,
        "POST /console/set-password": .anyone,
        "GET /console/static/{file}": .anyone,
        "GET /console/overview": .admins,
        "GET /console/dialer": .everyone,
        "GET /console/api-keys": .admins,
        "POST /console/api-keys": .admins,
        "GET /console/api-keys/{id}/revoke": .admins,
        "POST /console/api-keys/{id}/revoke": .admins,
        "GET /console/users": .admins,
        "POST /console/users": .admins,
        "GET /console/users/{id}/role": .admins,
        "POST /console/users/{id}/role": .admins,
        "GET /console/users/{id}/disable": .admins,
        "POST /console/users/{id}/disable": .admins,
    ]

    /// `"POST /console/users/{id}/role"` for `.post` and `"/users/:id/role"`.
    static func key(_ method: HTTPRequest.Method, _ path: String) -> String {
        let full = prefix + path
        let described = full.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
        return "\(method.rawValue) \(described == prefix + "/" ? prefix : described)"
    }

    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    /// Registers a console route with the access its table entry names (a route the table lacks
    /// is admin-only, and `ConsoleRoleTests` fails until it is listed).
    static func on(
        _ router: Router<AppRequestContext>, _ method: HTTPRequest.Method, _ path: String, use handler: @escaping Handler
    ) {
        let access = Self.access[key(method, path)] ?? .admins
        router.on(RouterPath(prefix + (path == "/" ? "" : path)), method: method) { request, context in
            if case .signedIn(let roles) = access {
                guard let session = context.consoleSession else {
                    throw ConsoleError.signInRequired(from: request.uri.path)
                }
                guard roles.contains(session.user.role) else { throw ConsoleError.forbidden }
            }
            return try await handler(request, context)
        }
    }
}

/// The pages of the console, in navigation order, with the roles that see each link. Pages not
/// built yet have no link (a later change adds its route and flips `built`).
enum ConsolePage: String, CaseIterable, Sendable {
    case overview, dialer, contacts, calls, providers, apiKeys, users, auditLog

    var title: String {
        switch self {
        case .overview: "Overview"
        case .dialer: "Dialer"
        case .contacts: "Contacts"
        case .calls: "Calls"
        case .providers: "Providers"
        case .apiKeys: "API keys"
        case .users: "Users"
        case .auditLog: "Audit log"
        }
    }

    var path: String {
        switch self {
        case .overview: "/console/overview"
        case .dialer: "/console/dialer"
        case .contacts: "/console/contacts"
        case .calls: "/console/calls"
        case .providers: "/console/providers"
        case .apiKeys: "/console/api-keys"
        case .users: "/console/users"
        case .auditLog: "/console/audit-log"
        }
    }

    var roles: Set<UserRole> {
        switch self {
        case .dialer, .contacts, .calls: [.admin, .agent]
        case .overview, .providers, .apiKeys, .users, .auditLog: [.admin]
        }
    }

    var built: Bool {
        switch self {
        case .overview, .dialer, .apiKeys, .users: true
        case .contacts, .calls, .providers, .auditLog: false
        }
    }

    /// Where a user lands after signing in.
    static func home(for role: UserRole) -> ConsolePage {
        role == .admin ? .overview : .dialer
    }
}
