import AsyncHTTPClient
import Foundation
import NIOCore
import Providers

/// An organization's `ODOO_CONFIGURATION`, opened.
struct OdooConfiguration: Sendable {
    let url: URL
    let database: String
    let username: String
    let apiKey: String
    /// Extra search domain terms (Polish notation), and-ed with the sync's own.
    let domain: [JSONValue]
    let writeBack: Bool

    init?(_ document: [String: JSONValue]) {
        guard let text = document["url"]?.stringValue, let url = URL(string: text),
            let database = document["database"]?.stringValue, let username = document["username"]?.stringValue,
            let apiKey = document["api_key"]?.stringValue
        else { return nil }
        self.url = url
        self.database = database
        self.username = username
        self.apiKey = apiKey
        domain = document["domain"]?.arrayValue ?? []
        writeBack = document["write_back"]?.boolValue ?? false
    }
}

/// What went wrong talking to an Odoo; messages name Odoo's own error and never a credential.
enum OdooError: Error, Equatable, CustomStringConvertible {
    /// The outbound policy refused the URL before connecting.
    case refused(String)
    /// No usable answer: connection failure, timeout, an HTTP error status, or a body too large.
    case unreachable(String)
    /// `authenticate` answered false: wrong database user or API key.
    case badCredentials
    /// Odoo answered with a JSON-RPC error: its exception name and message.
    case server(name: String, message: String)
    /// The answer was not the JSON-RPC Odoo documents.
    case invalidResponse(String)

    var description: String {
        switch self {
        case .refused(let reason): "the Odoo URL was refused: \(reason)"
        case .unreachable(let reason): "Odoo could not be reached: \(reason)"
        case .badCredentials: "Odoo refused the login: check username and api_key (Odoo answered authenticate with false)"
        case .server(let name, let message): "Odoo answered with an error: \(name): \(message)"
        case .invalidResponse(let reason): "Odoo's answer could not be read: \(reason)"
        }
    }

    /// Whether the same request could succeed later without anyone changing anything.
    var isTransient: Bool {
        switch self {
        case .unreachable: true
        case .server(let name, _): !name.hasPrefix("odoo.exceptions.")
        default: false
        }
    }
}

/// Odoo's external JSON-RPC API (`POST {url}/jsonrpc`) for one configuration, over one pinned client.
///
/// Use through ``OdooClient/session(_:policy:_:)``, which shuts the client down afterwards.
struct OdooClient: Sendable {
    let configuration: OdooConfiguration
    let http: HTTPClient
    let policy: OutboundPolicy
    private let endpoint: String

    private init(configuration: OdooConfiguration, http: HTTPClient, policy: OutboundPolicy) {
        self.configuration = configuration
        self.http = http
        self.policy = policy
        endpoint = configuration.url.absoluteString + "/jsonrpc"
    }

    /// Runs `body` with a client whose connections go only to the address the policy checked.
    static func session<Result: Sendable>(
        _ configuration: OdooConfiguration, policy: OutboundPolicy, _ body: (OdooClient) async throws -> Result
    ) async throws -> Result {
        let http: HTTPClient
        do {
            http = try await policy.client(for: configuration.url)
        } catch {
            throw OdooError.refused(error.description)
        }
        let client = OdooClient(configuration: configuration, http: http, policy: policy)
        do {
            let result = try await body(client)
            try? await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// `common.version`: e.g. "17.0".
    func version() async throws(OdooError) -> String {
        let result = try await call(service: "common", method: "version", args: [])
        guard let version = result.objectValue?["server_version"]?.stringValue else {
            throw .invalidResponse("version has no server_version")
        }
        return version
    }

    /// `common.authenticate`: the user id, or `.badCredentials`.
    func authenticate() async throws(OdooError) -> Int {
        let result = try await call(
            service: "common", method: "authenticate",
            args: [.string(configuration.database), .string(configuration.username), .string(configuration.apiKey), [:]])
        if let uid = result.doubleValue, uid > 0 { return Int(uid) }
        if result.boolValue == false || result.isNull { throw .badCredentials }
        throw .invalidResponse("authenticate answered neither a user id nor false")
    }

    /// `object.execute_kw(database, uid, key, model, method, args, kwargs)`.
    func execute(uid: Int, model: String, method: String, args: [JSONValue], kwargs: [String: JSONValue] = [:])
        async throws(OdooError) -> JSONValue
    {
        try await call(
            service: "object", method: "execute_kw",
            args: [
                .string(configuration.database), .number(Double(uid)), .string(configuration.apiKey), .string(model),
                .string(method), .array(args), .object(kwargs),
            ])
    }

    private func call(service: String, method: String, args: [JSONValue]) async throws(OdooError) -> JSONValue {
        let envelope: JSONValue = [
            "jsonrpc": "2.0", "method": "call", "id": .number(Double(Int.random(in: 1...1_000_000))),
            "params": ["service": .string(service), "method": .string(method), "args": .array(args)],
        ]
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        let body: ByteBuffer
        do {
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(envelope)))
            let response = try await http.execute(request, timeout: .seconds(Int64(policy.timeout.components.seconds)))
            guard response.status.code == 200 else {
                throw OdooError.unreachable("HTTP \(response.status.code) from \(configuration.url.host ?? "the server")")
            }
            body = try await response.body.collect(upTo: policy.maximumResponseBytes)
        } catch let error as OdooError {
            throw error
        } catch is NIOTooManyBytesError {
            throw .unreachable("the answer was larger than \(policy.maximumResponseBytes) bytes")
        } catch let error as HTTPClientError {
            throw .unreachable(Self.describe(error))
        } catch {
            throw .unreachable("\(type(of: error))")
        }
        let decoded: JSONValue
        do {
            decoded = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
        } catch {
            throw .invalidResponse("not JSON")
        }
        if let failure = decoded.objectValue?["error"]?.objectValue {
            let data = failure["data"]?.objectValue
            let name = data?["name"]?.stringValue ?? "error \(failure["code"]?.doubleValue.map { Int($0) } ?? 0)"
            let message = data?["message"]?.stringValue ?? failure["message"]?.stringValue ?? "no message"
            if name == "odoo.exceptions.AccessDenied" { throw .badCredentials }
            throw .server(name: name, message: String(message.prefix(500)))
        }
        guard let object = decoded.objectValue, let result = object["result"] else {
            throw .invalidResponse("no result")
        }
        return result
    }

    private static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .deadlineExceeded, .readTimeout, .connectTimeout: "it did not answer in time"
        case .remoteConnectionClosed: "it closed the connection"
        default: "the connection failed (\(error))"
        }
    }
}
