import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The one outbound HTTP path to providers: a shared `HTTPClient`, a deadline on every request,
/// and failures mapped to `ProviderError` without ever echoing credentials.
public struct ProviderHTTPClient: Sendable {
    /// A provider's answer.
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]

        /// The body as a JSON object, if it is one.
        func jsonObject() -> [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
    }

    let client: HTTPClient
    /// Deadline of one request, connect to last byte.
    public let timeout: TimeAmount
    /// Largest provider response read.
    static let maxResponseSize = 4 << 20
    /// Where each request's latency and outcome is reported, under the provider that sent it.
    let metrics: any ProviderMetrics

    public init(client: HTTPClient, timeout: TimeAmount = .seconds(10), metrics: any ProviderMetrics = NoProviderMetrics()) {
        self.client = client
        self.timeout = timeout
        self.metrics = metrics
    }

    /// Sends a request for `provider`; 5xx and transport failures become `.unavailable`, 4xx
    /// `.rejected` with the reason `describeError` reads from the provider's error body. Every
    /// request's latency and outcome goes to `metrics`.
    func send(
        _ method: HTTPMethod, _ url: String, provider: ProviderName, headers: [(String, String)] = [],
        body: [UInt8]? = nil, logger: Logger, describeError: (Response) -> String
    ) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: Response
        let start = ContinuousClock.now
        do {
            let answer = try await client.execute(request, timeout: timeout, logger: logger)
            let buffer = try await answer.body.collect(upTo: Self.maxResponseSize)
            response = Response(status: Int(answer.status.code), body: Array(buffer.readableBytesView))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            metrics.providerRequest(provider, outcome: .timeout, duration: ContinuousClock.now - start)
            throw ProviderError.unavailable("no answer within \(timeout.nanoseconds / 1_000_000) ms")
        } catch {
            metrics.providerRequest(provider, outcome: .transportError, duration: ContinuousClock.now - start)
            throw ProviderError.unavailable("request failed (\(type(of: error)))")
        }
        let outcome: ProviderRequestOutcome =
            switch response.status {
            case 200..<300: .success
            case 400..<500: .rejected
            default: .unavailable
            }
        metrics.providerRequest(provider, outcome: outcome, duration: ContinuousClock.now - start)
        logger.debug("provider request", metadata: ["method": "\(method.rawValue)", "status": "\(response.status)"])
        switch response.status {
        case 200..<300: return response
        case 400..<500: throw ProviderError.rejected(status: response.status, reason: describeError(response))
        default: throw ProviderError.unavailable("provider answered \(response.status): \(describeError(response))")
        }
    }

    /// `Basic base64(user:password)`.
    static func basicAuthorization(user: String, password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// `application/x-www-form-urlencoded` encoding of ordered pairs.
    static func formEncode(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { "\(formEscape($0.0))=\(formEscape($0.1))" }.joined(separator: "&").utf8)
    }

    static func formEscape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value).replacingOccurrences(of: "%20", with: "+")
    }

    /// Percent-escapes one path segment.
    static func pathEscape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    static func json(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// A short, safe excerpt of an error body when the provider's shape is unknown.
    static func excerpt(_ response: Response) -> String {
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
        return text.isEmpty ? "HTTP \(response.status)" : text
    }
}
