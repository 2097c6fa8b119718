import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging

/// A signed webhook ready to send.
struct PreparedWebhook: Sendable {
    var provider: ProviderKind
    var url: String
    var method: String
    var headers: [(String, String)]
    var body: [UInt8]
}

/// Builds the webhooks a provider sends for a step of a call's life, and acts on answers and ends.
protocol WebhookSource: Sendable {
    /// The signed webhooks for `event`, given the call as it is after the event.
    func webhooks(for event: LifecycleEvent, call: SimulatedCall) async -> [PreparedWebhook]

    /// Runs once the call is answered and its answer reported (Twilio fetches and executes TwiML here).
    func callAnswered(_ call: SimulatedCall, deliverer: WebhookDeliverer) async

    /// Runs once the call's end is reported (the call leaves its conference here).
    func callEnded(_ call: SimulatedCall) async
}

extension WebhookSource {
    /// Nothing happens on answer unless the provider says so.
    func callAnswered(_ call: SimulatedCall, deliverer: WebhookDeliverer) async {}

    /// Nothing happens after the end unless the provider says so.
    func callEnded(_ call: SimulatedCall) async {}
}

/// What a document fetch (TwiML) got back.
struct FetchedDocument: Sendable {
    /// The receiver's status; nil when refused or failed.
    var status: Int?
    var body: [UInt8]
    /// Why nothing came back: a refused non-loopback URL or a transport error.
    var failure: String?
    /// Whether the URL was refused for leaving the machine (nothing was attempted).
    var refused: Bool
}

/// Sends webhooks to loopback receivers and records every attempt.
struct WebhookDeliverer: Sendable {
    let client: HTTPClient
    let store: SimulatorStore
    let logger: Logger

    func deliver(_ webhook: PreparedWebhook) async {
        var sentHeaders: [String: String] = [:]
        for (name, value) in webhook.headers { sentHeaders[name.lowercased()] = value }
        var record = DeliveredWebhook(
            provider: webhook.provider.rawValue, url: webhook.url, method: webhook.method, headers: sentHeaders,
            body: webhook.body, responseStatus: nil, failure: nil, deliveredAt: Date())

        guard isLoopbackURL(webhook.url) else {
            record.failure = "refused: the simulator only delivers to loopback URLs"
            logger.notice("Refused a webhook to a non-loopback URL", metadata: ["url": "\(webhook.url)"])
            store.record(record)
            return
        }

        var request = HTTPClientRequest(url: webhook.url)
        request.method = .init(rawValue: webhook.method)
        for (name, value) in webhook.headers { request.headers.add(name: name, value: value) }
        if !webhook.body.isEmpty {
            request.body = .bytes(ByteBuffer(bytes: webhook.body))
        }
        do {
            // Fifteen seconds, as Twilio documents for its webhooks before it gives up on a slow receiver.
            let response = try await client.execute(request, timeout: .seconds(15))
            _ = try await response.body.collect(upTo: 1 << 20)
            record.responseStatus = Int(response.status.code)
        } catch {
            if Task.isCancelled { return }
            record.failure = "\(error)"
            logger.debug("Webhook delivery failed", metadata: ["url": "\(webhook.url)", "error": "\(error)"])
        }
        record.deliveredAt = Date()
        store.record(record)
    }

    /// Requests a document (TwiML) the way webhooks are sent, returning the answer; nothing is recorded here.
    func fetch(_ request: PreparedWebhook) async -> FetchedDocument {
        guard isLoopbackURL(request.url) else {
            logger.debug("Refused a document fetch from a non-loopback URL", metadata: ["url": "\(request.url)"])
            return FetchedDocument(
                status: nil, body: [], failure: "refused: the simulator only fetches from loopback URLs", refused: true)
        }
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = .init(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        do {
            let response = try await client.execute(outgoing, timeout: .seconds(15))
            let body = try await response.body.collect(upTo: 1 << 20)
            return FetchedDocument(status: Int(response.status.code), body: Array(buffer: body), failure: nil, refused: false)
        } catch {
            logger.debug("Document fetch failed", metadata: ["url": "\(request.url)", "error": "\(error)"])
            return FetchedDocument(status: nil, body: [], failure: "\(error)", refused: false)
        }
    }
}
