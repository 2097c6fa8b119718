import HTTPTypes
import Hummingbird
import Persistence

/// Authenticates `Authorization: Bearer <key>` or `X-API-Key: <key>` on every request it guards;
/// expiry and revocation are checked each time.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let keys: APIKeyStore
    /// Bounds the key lookup (3 s; 250 ms while the database is known to be away).
    var database = DatabaseAvailability()
    /// How long a lookup may wait for a healthy database.
    static let lookupDeadline: Duration = .seconds(3)

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let presented = Self.presentedKey(in: request) else {
            throw APIError.unauthorized(
                "missing_api_key", "send the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        }
        let keys = self.keys
        let logger = context.logger
        // The first database touch of every API request: when PostgreSQL is unreachable the
        // pool would wait indefinitely, so answer 503 instead of hanging.
        let outcome = try await database.bounded {
            try await keys.authenticate(presented, logger: logger)
        }
        switch outcome {
        case .failure(let failure):
            throw APIError.unauthorized("invalid_api_key", failure.description)
        case .success(let key):
            var context = context
            context.apiKey = key
            context.logger[metadataKey: "api_key_id"] = .string(key.id.uuidString.lowercased())
            return try await next(request, context)
        }
    }

    static func presentedKey(in request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        // Another Authorization scheme (e.g. a proxy's Basic) does not hide the X-API-Key.
        return request.headers[.apiKey]?.trimmingCharacters(in: .whitespaces)
    }
}
