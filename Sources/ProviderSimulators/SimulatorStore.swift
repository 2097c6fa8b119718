import Foundation
import Synchronization

/// A call's lifecycle waiting to run.
struct LifecycleJob: Sendable {
    var key: CallKey
    var outcome: CallOutcome
    var signal: HangupSignal
}

/// Everything the simulator remembers, behind one lock.
final class SimulatorStore: Sendable {
    private struct State {
        var settings: CallScenarioSettings
        var requests: [RecordedRequest] = []
        var webhooks: [DeliveredWebhook] = []
        var calls: [CallKey: SimulatedCall] = [:]
        var signals: [CallKey: HangupSignal] = [:]
        var telnyxCommands: [String: (placedAt: Date, response: OutgoingResponse)] = [:]
        var jobs: AsyncStream<LifecycleJob>.Continuation?
    }

    private let state: Mutex<State>

    init(settings: CallScenarioSettings) {
        state = Mutex(State(settings: settings))
    }

    var settings: CallScenarioSettings {
        get { state.withLock { $0.settings } }
        set { state.withLock { $0.settings = newValue } }
    }

    func record(_ request: RecordedRequest) {
        state.withLock { $0.requests.append(request) }
    }

    func record(_ webhook: DeliveredWebhook) {
        state.withLock { $0.webhooks.append(webhook) }
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    var webhooks: [DeliveredWebhook] { state.withLock { $0.webhooks } }
    var webhookCount: Int { state.withLock { $0.webhooks.count } }

    /// Where new lifecycles go; nil stops accepting them.
    func setJobs(_ continuation: AsyncStream<LifecycleJob>.Continuation?) {
        state.withLock { $0.jobs = continuation }
    }

    /// Stores a new call and schedules its lifecycle.
    func place(_ call: SimulatedCall) {
        let signal = HangupSignal()
        let job = LifecycleJob(key: call.key, outcome: CallOutcome(destination: call.to), signal: signal)
        let jobs = state.withLock { state in
            state.calls[call.key] = call
            state.signals[call.key] = signal
            return state.jobs
        }
        jobs?.yield(job)
    }

    /// Places a Telnyx call unless `commandKey` placed one in the last 60 seconds; returns the earlier response if so.
    func placeTelnyx(
        _ call: SimulatedCall, commandKey: String?, response: OutgoingResponse, now: Date
    ) -> OutgoingResponse? {
        let earlier = state.withLock { state -> OutgoingResponse? in
            state.telnyxCommands = state.telnyxCommands.filter { now.timeIntervalSince($0.value.placedAt) < 60 }
            guard let commandKey else { return nil }
            if let earlier = state.telnyxCommands[commandKey] { return earlier.response }
            state.telnyxCommands[commandKey] = (now, response)
            return nil
        }
        if let earlier { return earlier }
        place(call)
        return nil
    }

    func call(_ key: CallKey) -> SimulatedCall? {
        state.withLock { $0.calls[key] }
    }

    func calls(provider: ProviderKind, accountID: String) -> [SimulatedCall] {
        state.withLock { state in
            state.calls.values.filter { $0.key.provider == provider && $0.accountID == accountID }
                .sorted { $0.createdAt > $1.createdAt }
        }
    }

    /// Changes a call under the lock and returns the result and the changed call.
    func update<Result>(_ key: CallKey, _ change: (inout SimulatedCall) -> Result) -> (Result, SimulatedCall)? {
        state.withLock { state in
            guard var call = state.calls[key] else { return nil }
            let result = change(&call)
            state.calls[key] = call
            return (result, call)
        }
    }

    /// Hangs a call up through the API: ends it now and wakes its lifecycle to report the end.
    func hangUp(_ key: CallKey) -> (end: CallEnd?, call: SimulatedCall)? {
        let outcome = state.withLock { state -> (CallEnd?, SimulatedCall, HangupSignal?)? in
            guard var call = state.calls[key] else { return nil }
            let end = call.hangUpByAPI(at: Date())
            state.calls[key] = call
            return (end, call, state.signals[key])
        }
        guard let outcome else { return nil }
        if outcome.0 != nil { outcome.2?.fire() }
        return (outcome.0, outcome.1)
    }

    /// Forgets a finished lifecycle's signal.
    func lifecycleFinished(_ key: CallKey) {
        state.withLock { _ = $0.signals.removeValue(forKey: key) }
    }
}
