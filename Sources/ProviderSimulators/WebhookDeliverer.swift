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

/// Builds the webhooks a provider sends for a step of a call's life.
protocol WebhookSource: Sendable {
    /// The signed webhooks for `event`, given the call as it is after the event.
    func webhooks(for event: LifecycleEvent, call: SimulatedCall) async -> [PreparedWebhook]
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
            // Five seconds, as the real providers give up on slow receivers.
            let response = try await client.execute(request, timeout: .seconds(5))
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
}
