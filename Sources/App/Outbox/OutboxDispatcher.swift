import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// What one delivery attempt of an outbox row came to.
enum OutboxDelivery: Sendable, Equatable {
    case delivered
    /// Try again after the backoff; the reason is kept as the row's `last_error` (never a secret).
    case retry(String)
    /// Never try again (the target is gone); the reason is kept as `last_error`.
    case giveUp(String)
}

/// Delivers the outbox rows of one `kind`.
protocol OutboxHandler: Sendable {
    static var kind: String { get }
    func deliver(_ item: OutboxItem, logger: Logger) async -> OutboxDelivery
}

/// Claims due outbox rows (any instance may run one; `FOR UPDATE SKIP LOCKED` keeps them apart) and
/// hands each to its kind's handler; failures are retried with exponential backoff, without limit, so
/// a target that is down delays deliveries and loses none.
struct OutboxDispatcher: Sendable {
    let store: OutboxStore
    let handlers: [String: any OutboxHandler]
    /// How long a claimed row is held by this instance before another may take it.
    var lease: Duration = .seconds(120)
    /// The first retry's delay; each further failure doubles it, up to `maximumBackoff`.
    var baseBackoff: Duration = .seconds(10)
    var maximumBackoff: Duration = .seconds(3600)
    var batchSize = 20

    init(store: OutboxStore, handlers: [any OutboxHandler]) {
        self.store = store
        self.handlers = Dictionary(handlers.map { (type(of: $0).kind, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Delivers what is due now; returns how many rows it attempted.
    @discardableResult
    func deliverDue(logger: Logger) async throws -> Int {
        let items = try await store.claimDue(limit: batchSize, lease: lease, logger: logger)
        for item in items {
            let outcome: OutboxDelivery
            if let handler = handlers[item.kind] {
                outcome = await handler.deliver(item, logger: logger)
            } else {
                // A newer instance may know the kind (rolling deploy): leave it for later, never drop it.
                outcome = .retry("no handler for \(item.kind) on this instance")
            }
            switch outcome {
            case .delivered:
                try await store.markDelivered(item, logger: logger)
            case .retry(let reason):
                logger.notice("outbox delivery will be retried", metadata: ["kind": "\(item.kind)", "reason": "\(reason)"])
                try await store.markFailed(item, error: reason, retryAfter: backoff(attempts: item.attempts), logger: logger)
            case .giveUp(let reason):
                logger.warning("outbox delivery given up", metadata: ["kind": "\(item.kind)", "reason": "\(reason)"])
                try await store.giveUp(item, error: reason, logger: logger)
            }
        }
        return items.count
    }

    func backoff(attempts: Int) -> Duration {
        let factor = 1 << min(max(attempts - 1, 0), 16)
        return min(baseBackoff * factor, maximumBackoff)
    }
}
