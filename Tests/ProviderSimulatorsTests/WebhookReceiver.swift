import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A loopback HTTP server that records the webhooks it receives, standing in for Switchboard.
final class WebhookReceiver: Sendable {
    /// One request as received.
    struct Received: Sendable {
        var method: String
        var path: String
        var query: String?
        var headers: [String: String]
        var body: [UInt8]
        var port: Int

        /// The URL as the sender addressed it.
        var url: String {
            "http://127.0.0.1:\(port)\(path)" + (query.map { "?" + $0 } ?? "")
        }

        /// The URL without its query.
        var urlWithoutQuery: String { "http://127.0.0.1:\(port)\(path)" }

        var bodyText: String { String(decoding: body, as: UTF8.self) }

        /// Form parameters from the body, or from the query for GET.
        var parameters: [(String, String)] {
            let source = method == "GET" ? (query ?? "") : bodyText
            return source.split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ text: Substring) -> String {
                    let spaced = text.replacingOccurrences(of: "+", with: " ")
                    return spaced.removingPercentEncoding ?? spaced
                }
                return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
            }
        }

        /// The first value of a form parameter.
        func parameter(_ name: String) -> String? {
            parameters.first { $0.0 == name }?.1
        }

        func jsonObject() -> [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
    }

    private struct Runtime {
        var task: Task<Void, Never>?
        var serviceGroup: ServiceGroup?
        var port = 0
    }

    /// A canned answer for one path.
    struct Reply: Sendable {
        var status: Int
        var contentType: String
        var body: String
    }

    private let received = Mutex<[Received]>([])
    private let runtime = Mutex(Runtime())
    private let replies = Mutex<[String: Reply]>([:])

    /// Answers requests to `path` (without query) with `body` from now on; other paths get an empty TwiML response.
    func respond(to path: String, status: Int = 200, contentType: String = "text/xml", with body: String) {
        replies.withLock { $0[path] = Reply(status: status, contentType: contentType, body: body) }
    }

    /// Starts listening on 127.0.0.1 at a free port.
    func start() async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers {
                headers[field.name.canonicalName.lowercased()] = field.value
            }
            let port = self.runtime.withLock { $0.port }
            self.received.withLock {
                $0.append(
                    Received(
                        method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                        headers: headers, body: Array(buffer: body), port: port))
            }
            let reply =
                self.replies.withLock { $0[request.uri.path] }
                ?? Reply(status: 200, contentType: "application/xml", body: "<Response></Response>")
            return Response(
                status: .init(code: reply.status), headers: [.contentType: reply.contentType],
                body: .init(byteBuffer: ByteBuffer(string: reply.body)))
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .error
        let application = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        // Stopped gracefully: cancelling a server mid-connection trips NIO's writer assertions.
        let serviceGroup = ServiceGroup(services: [application], logger: logger)
        let task = Task {
            try? await serviceGroup.run()
            continuation.finish()
        }
        runtime.withLock {
            $0.task = task
            $0.serviceGroup = serviceGroup
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ReceiverError.didNotStart }
        runtime.withLock { $0.port = port }
    }

    /// Stops the server.
    func stop() async {
        let (task, serviceGroup) = runtime.withLock { ($0.task, $0.serviceGroup) }
        await serviceGroup?.triggerGracefulShutdown()
        await task?.value
    }

    /// `http://127.0.0.1:port` + `path`.
    func url(_ path: String) -> String {
        "http://127.0.0.1:\(runtime.withLock { $0.port })" + path
    }

    /// Everything received so far.
    func requests() -> [Received] {
        received.withLock { $0 }
    }

    /// Everything received so far at `path` (without query), in arrival order.
    func requests(at path: String) -> [Received] {
        requests().filter { $0.path == path }
    }

    /// Waits until `count` requests arrived at `path` (or `timeout` passed), then returns those.
    func wait(for count: Int, at path: String, timeout: Duration = .seconds(20)) async -> [Received] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while requests(at: path).count < count && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return requests(at: path)
    }

    /// Waits until `count` requests arrived (or two seconds passed), then returns them.
    func wait(for count: Int, timeout: Duration = .seconds(20)) async -> [Received] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while requests().count < count && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return requests()
    }

    enum ReceiverError: Error {
        case didNotStart
    }
}
