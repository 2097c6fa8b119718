import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence
import PostgresNIO
import Providers

/// Outermost middleware: gives every request an id, logs it once, refuses oversized bodies, and
/// turns every error into the API's JSON error body — never a stack trace, SQL or secret.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(from: request) ?? context.id
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let start = ContinuousClock.now
        var response: Response
        do {
            let limit = RequestLimits.bodyLimit(for: request)
            if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                throw APIError.payloadTooLarge(limit: limit)
            }
            // PostgreSQL text cannot hold NUL; no identifier, cursor or search term has one.
            if request.uri.string.range(of: "%00", options: .caseInsensitive) != nil {
                throw APIError.badRequest("invalid_query", "the URL must not contain NUL characters (%00)")
            }
            response = try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error, logger: context.logger)
            response = try apiError.response(from: request, context: context)
        }
        response.headers[.requestID] = context.requestID
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible((ContinuousClock.now - start).milliseconds),
            ])
        return response
    }

    /// A client-supplied request id is kept when it is short and plain.
    static func requestID(from request: Request) -> String? {
        guard let value = request.headers[.requestID], (1...64).contains(value.count),
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        return value
    }

    /// Maps any error to what the client sees; unknown errors are logged in full and shown as 500.
    static func apiError(for error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ColdCallError:
            return error.apiError
        case let error as HTTPError:
            return APIError(
                status: error.status, code: Self.code(for: error.status),
                message: error.body ?? error.status.reasonPhrase.lowercased(), headers: error.headers)
        case let error as PersistenceError:
            switch error {
            case .duplicate: return .conflict("duplicate", error.description)
            case .notFound: return .notFound("not_found", error.description)
            case .versionMismatch:
                return APIError(status: .preconditionFailed, code: "version_mismatch", message: error.description)
            case .conflict: return .conflict("conflict", error.description)
            case .rateLimited(_, let seconds): return .rateLimited(error.description, retryAfterSeconds: seconds)
            case .versionRequired:
                return APIError(status: .preconditionRequired, code: "precondition_required", message: error.description)
            }
        case let error as ConfigurationValidationError:
            return .unprocessable("invalid_configuration", "the document is invalid: fix each listed field", fields: error.errors)
        case let error as SealingError:
            logger.error("sealed configuration unreadable", metadata: ["error": .string(error.description)])
            return APIError(
                status: .internalServerError, code: "configuration_unreadable",
                message: "a stored configuration cannot be opened with this server's master keys; the operator must restore the missing key")
        case let error as DatabaseAvailabilityError:
            if error == .unavailable { logger.warning("database unavailable") }
            return error == .busy ? .serverBusy : .databaseUnavailable
        case let error as PSQLError where DatabaseAvailability.isConnectivity(error):
            logger.warning("database unavailable", metadata: ["error": .string(String(describing: error.code))])
            return .databaseUnavailable
        case let error as PSQLError where error.serverInfo?[.sqlState] == "22021":
            // character_not_in_repertoire: text PostgreSQL cannot store (NUL) that a check missed.
            return .badRequest("invalid_text", "text fields must not contain NUL characters")
        case let error as PSQLError:
            // Never the query's bound values (they can hold phone numbers and key hashes): the SQLSTATE only.
            logger.error(
                "unhandled database error",
                metadata: [
                    "sqlstate": .string(error.serverInfo?[.sqlState] ?? "none"), "code": .string(String(describing: error.code)),
                ])
            return .internalError
        case let error as PostgresTransactionError:
            if let inner = error.closureError ?? error.beginError ?? error.commitError {
                return apiError(for: inner, logger: logger)
            }
            fallthrough
        default:
            logger.error("unhandled error", metadata: ["error": .string(String(reflecting: error))])
            return .internalError
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .contentTooLarge: "payload_too_large"
        case .badRequest: "bad_request"
        case .unsupportedMediaType: "unsupported_media_type"
        default: status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        }
    }
}

extension APIError {
    /// 429 `rate_limited`, with `Retry-After` in whole seconds.
    static func rateLimited(_ message: String, retryAfterSeconds: Int) -> APIError {
        APIError(
            status: .tooManyRequests, code: "rate_limited", message: message,
            headers: [.retryAfter: String(max(1, retryAfterSeconds))])
    }

    static let payloadTooLarge = APIError(
        status: .contentTooLarge, code: "payload_too_large",
        message: "request bodies are limited to \(RequestLimits.maxBodySize) bytes")

    /// 413 naming the limit of the route that refused the body.
    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, code: "payload_too_large", message: "request bodies are limited to \(limit) bytes")
    }
}

extension RequestLimits {
    /// The one exception to `maxBodySize`: `POST /api/v1/contacts/import` takes CSV files up to 5 MiB.
    static let contactImportBodySize = 5 << 20
    static let contactImportPath = "/api/v1/contacts/import"

    /// The largest body `request` may send: `maxBodySize`, except on the contacts import route.
    static func bodyLimit(for request: Request) -> Int {
        request.method == .post && request.uri.path == contactImportPath ? contactImportBodySize : maxBodySize
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let apiKey = HTTPField.Name("X-API-Key")!
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
