import Foundation
import Hummingbird
import Logging
import Persistence

/// The request context of every route: the authenticated key, once the auth middleware ran.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The caller's key; nil before authentication and on public routes.
    var apiKey: AuthenticatedKey?
    /// The id echoed in `X-Request-ID` and attached to every log line of the request.
    var requestID: String = ""
    /// The peer's IP address (the connection's, never a forwarded header); nil when unknown.
    let sourceAddress: String?
    /// The signed-in console user's session; nil outside the console and before sign-in.
    var consoleSession: UserSession?
    /// The session id the browser presented (valid or not), so sign-in can end it.
    var consoleSessionToken: RandomToken?
    /// The peer's IP address (sign-in throttling); nil when the transport has none.
    var remoteAddress: String? { sourceAddress }

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        sourceAddress = source.channel.remoteAddress?.ipAddress
    }

    var requestDecoder: JSONDecoder { JSONCoding.decoder }
    var responseEncoder: JSONEncoder { JSONCoding.encoder }
    var maxUploadSize: Int { RequestLimits.maxBodySize }

    /// The authenticated key, or 401 when the route was reached without one.
    func requireKey() throws(APIError) -> AuthenticatedKey {
        guard let apiKey else { throw APIError.unauthorized("missing_api_key", "this route needs an API key") }
        return apiKey
    }
}

/// Request limits shared by the middleware and the body decoders.
enum RequestLimits {
    /// Larger bodies are refused with 413.
    static let maxBodySize = 1 << 20
}

/// The one JSON encoder and decoder configuration of the API.
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

extension UUID {
    /// The canonical lowercase text form the API uses for every id.
    var lowercasedString: String { uuidString.lowercased() }
}
