import Foundation
import Hummingbird
import Logging
import Synchronization

/// Counts failed authentications (bad or missing API keys, refused webhook signatures) per source
/// address in fixed windows; an address over the limit is refused before any key or signature is
/// checked, until its window ends. Failures are logged at most once per second per reason, with
/// how many went unlogged. Kept in memory: it sheds an attacker's load before the database, per
/// instance; the limits that must hold across instances (CALL_POLICY) are counted in PostgreSQL.
final class AuthenticationFailureLimiter: Sendable {
    struct Window {
        var start: ContinuousClock.Instant
        var failures: Int
    }

    struct State {
        var windows: [String: Window] = [:]
        /// Per reason: when it was last logged, and the failures since.
        var logged: [String: (at: ContinuousClock.Instant, unlogged: Int)] = [:]
    }

    /// Failures an address may have in one window.
    let limit: Int
    let window: Duration
    /// Past this many addresses, windows that ended are dropped (then, if still full, all of them).
    let maxTrackedAddresses: Int
    let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())

    init(
        limit: Int = 120, window: Duration = .seconds(60), maxTrackedAddresses: Int = 100_000,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.limit = limit
        self.window = window
        self.maxTrackedAddresses = maxTrackedAddresses
        self.now = now
    }

    /// Whole seconds until `address` may try again; nil when it is not blocked.
    func retryAfter(_ address: String) -> Int? {
        let now = self.now()
        return state.withLock { state -> Int? in
            guard let current = state.windows[address], current.failures >= limit else { return nil }
            let remaining = current.start + window - now
            guard remaining > .zero else { return nil }
            return max(1, Int(remaining.components.seconds) + (remaining.components.attoseconds > 0 ? 1 : 0))
        }
    }

    /// Counts a failure of `address`; returns the number of failures of `reason` to log now
    /// (this one and those not logged since the last line), or nil when it was logged less than a second ago.
    func recordFailure(_ address: String, reason: String) -> Int? {
        let now = self.now()
        return state.withLock { state -> Int? in
            if var current = state.windows[address], now - current.start < window {
                current.failures += 1
                state.windows[address] = current
            } else {
                if state.windows.count >= maxTrackedAddresses {
                    state.windows = state.windows.filter { now - $0.value.start < window }
                    if state.windows.count >= maxTrackedAddresses { state.windows = [:] }
                }
                state.windows[address] = Window(start: now, failures: 1)
            }
            if let last = state.logged[reason], now - last.at < .seconds(1) {
                state.logged[reason] = (last.at, last.unlogged + 1)
                return nil
            }
            let count = (state.logged[reason]?.unlogged ?? 0) + 1
            state.logged[reason] = (now, 0)
            return count
        }
    }
}

/// Applies `AuthenticationFailureLimiter` to every `/api/v1` route: the API (API keys) and the
/// provider webhooks (signatures). A refused address gets 429 `rate_limited` with `Retry-After`.
struct AuthenticationFailureMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: AuthenticationFailureLimiter

    /// The error codes that mean the caller could not authenticate.
    static let failureCodes: Set<String> = ["missing_api_key", "invalid_api_key", "missing_signature", "invalid_signature"]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/v1/") else { return try await next(request, context) }
        let address = context.sourceAddress ?? "unknown"
        if let seconds = limiter.retryAfter(address) {
            throw APIError.rateLimited(
                "too many failed authentications from this address; retry after \(seconds) s", retryAfterSeconds: seconds)
        }
        do {
            return try await next(request, context)
        } catch let error as APIError where Self.failureCodes.contains(error.code) {
            if let count = limiter.recordFailure(address, reason: error.code) {
                context.logger.warning(
                    "authentication failed",
                    metadata: [
                        "reason": .string(error.code), "source": .string(address), "path": .string(request.uri.path),
                        "failures_since_last_log": .stringConvertible(count),
                    ])
            }
            throw error
        }
    }
}
