import Logging
import Persistence

/// The one way housekeeping runs: every instance schedules each job as a `PeriodicTask`, and a
/// PostgreSQL advisory lock per job (`BackgroundJobLock`) lets one instance at a time do the work.
struct BackgroundJobs: Sendable {
    let lock: BackgroundJobLock
    let logger: Logger

    /// `work` every `interval` on whichever instance holds the job's lock at that moment.
    func periodic(
        _ name: String, every interval: Duration, _ work: @escaping @Sendable () async throws -> Void
    ) -> PeriodicTask {
        PeriodicTask(name: name, interval: interval, logger: logger) { [lock, logger] in
            _ = try await lock.run(name, logger: logger, work)
        }
    }
}

/// Resolves calls left `initiating` past the provider deadline plus a margin (see
/// `CallStore.sweepStaleInitiating`): the request that placed them died, or could not record the
/// provider's answer, so they were hidden, could not be hung up, and matched no webhook.
struct InitiatingCallSweeper: Sendable {
    let calls: CallStore
    let logger: Logger
    /// Rows resolved per transaction.
    var batchSize = 100

    /// Sweeps until no stale row is left; returns how many were resolved.
    @discardableResult
    func sweep() async throws -> Int {
        var total = 0
        while true {
            let swept = try await calls.sweepStaleInitiating(limit: batchSize, logger: logger)
            for call in swept {
                logger.warning(
                    "call left initiating past the provider deadline; marked failed/unconfirmed",
                    metadata: [
                        "organization_id": .string(call.organizationID.uuidString.lowercased()),
                        "call_id": .string(call.id.uuidString.lowercased()), "provider": .string(call.provider),
                    ])
            }
            total += swept.count
            if swept.count < batchSize { return total }
        }
    }
}
