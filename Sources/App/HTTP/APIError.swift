import Foundation
import HTTPTypes
import Hummingbird
import Providers

/// An error as the API shows it: `{"error": {"code", "message", "fields"?}}` with its status.
struct APIError: HTTPResponseError, CustomStringConvertible {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var fields: [FieldError]? = nil
    var headers: HTTPFields = [:]

    var description: String { "\(status.code) \(code): \(message)" }

    private struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let fields: [FieldError]?
        }
        let error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONCoding.encoder.encode(Body(error: .init(code: code, message: message, fields: fields)))
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }

    static func unauthorized(_ code: String, _ message: String) -> APIError {
        APIError(status: .unauthorized, code: code, message: message, headers: [.wwwAuthenticate: "Bearer"])
    }

    static func forbidden(_ message: String) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: message)
    }

    static func notFound(_ code: String, _ message: String) -> APIError {
        APIError(status: .notFound, code: code, message: message)
    }

    static func conflict(_ code: String, _ message: String) -> APIError {
        APIError(status: .conflict, code: code, message: message)
    }

    static func unprocessable(_ code: String, _ message: String, fields: [FieldError]? = nil) -> APIError {
        APIError(status: .unprocessableContent, code: code, message: message, fields: fields)
    }

    static let databaseUnavailable = APIError(
        status: .serviceUnavailable, code: "database_unavailable",
        message: "the database is unavailable; retry shortly")

    /// The database is reachable but every pooled connection stayed busy past the deadline: this
    /// request only; the client retries after `Retry-After` seconds.
    static let serverBusy = APIError(
        status: .serviceUnavailable, code: "server_busy",
        message: "the server is busy; retry after the number of seconds in Retry-After", headers: [.retryAfter: "1"])

    static let internalError = APIError(
        status: .internalServerError, code: "internal_error",
        message: "an internal error occurred; quote the X-Request-ID when reporting it")
}
