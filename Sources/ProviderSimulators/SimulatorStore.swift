import Foundation
import Synchronization

/// How a call's lifecycle begins.
enum LifecycleStart: Sendable, Equatable {
    /// Placed through the API: rings, then answers (and talks for `talkTime`) or ends as its destination says.
    case outbound(CallOutcome)
    /// An inbound leg answered the moment it arrives (a Twilio browser client); it lives until hung up.
    case answeredOnArrival
    /// An inbound leg parked until answered through the API (a Telnyx WebRTC call); it lives until hung up.
    case parked
}

/// A call's lifecycle waiting to run.
struct LifecycleJob: Sendable {
    var key: CallKey
    var start: LifecycleStart
    /// Fired when the call is hung up (or ended by its conference) outside the lifecycle.
    var signal: HangupSignal
    /// Fired when a parked inbound leg is answered through the API.
    var answered: HangupSignal
}

/// Work for the task that owns the webhook client.
enum SimulatorJob: Sendable {
    /// A call's lifecycle.
    case lifecycle(LifecycleJob)
    /// Anything else that talks to receivers (queued conference webhooks).
    case work(@Sendable (WebhookDeliverer) async -> Void)
}

/// The calls, conferences and provider resources the simulated APIs change together, under the store's lock.
struct SimulatorWorld: Sendable {
    var calls: [CallKey: SimulatedCall] = [:]
    var conferences: [String: SimulatedConference] = [:]
    /// Conference ids in creation order.
    var conferenceOrder: [String] = []
    /// Twilio applications by SID, seeded from the accounts and changed through the REST API.
    var twilioApplications: [String: TwilioApplicationState] = [:]
    /// Telnyx telephony credentials by id.
    var telnyxCredentials: [String: TelnyxCredential] = [:]
    /// Telnyx credential ids in creation order.
    var telnyxCredentialOrder: [String] = []
    /// Where each Telnyx credential connection's call events go.
    var credentialConnectionWebhooks: [String: String] = [:]

    /// The conference `key` is currently a participant of, and the participant's index.
    func conferenceMembership(of key: CallKey) -> (id: String, index: Int)? {
        for id in conferenceOrder.reversed() {
            guard let conference = conferences[id], conference.status != .completed,
                let index = conference.presentIndex(of: key)
            else { continue }
            return (id, index)
        }
        return nil
    }

    /// Adds a new conference.
    mutating func insert(_ conference: SimulatedConference) {
        conferences[conference.id] = conference
        conferenceOrder.append(conference.id)
    }
}

/// What a world transaction leaves to do: webhooks to queue and lifecycles to wake.
struct WorldEffects: Sendable {
    /// Conference events, in the order they happened.
    var events: [ConferenceEvent] = []
    /// Calls the transaction ended whose lifecycles must report it.
    var endedCalls: [CallKey] = []
}

/// Everything the simulator remembers, behind one lock.
final class SimulatorStore: Sendable {
    /// One conference's webhooks waiting to go out one after another.
    private struct DeliveryQueue {
        var pending: [PreparedWebhook] = []
        /// Shuffled webhooks held until the conference completes.
        var held: [PreparedWebhook] = []
        var draining = false
    }

    /// Everything behind the lock.
    private struct State {
        var settings: CallScenarioSettings
        var requests: [RecordedRequest] = []
        var webhooks: [DeliveredWebhook] = []
        var twimlFetches: [TwiMLFetch] = []
        var world = SimulatorWorld()
        var signals: [CallKey: HangupSignal] = [:]
        var answerSignals: [CallKey: HangupSignal] = [:]
        var telnyxCommands: [String: (placedAt: Date, response: OutgoingResponse)] = [:]
        var deliveryQueues: [String: DeliveryQueue] = [:]
        var jobs: AsyncStream<SimulatorJob>.Continuation?
        var stopping = false
    }

    private let state: Mutex<State>

    /// Creates a store seeded with the accounts' Twilio applications and Telnyx credential connection webhook URLs.
    init(settings: CallScenarioSettings, accounts: SimulatorAccounts = .init()) {
        var world = SimulatorWorld()
        let seeded = Date()
        for account in accounts.twilio {
            for application in account.applications {
                world.twilioApplications[application.sid] = TwilioApplicationState(
                    sid: application.sid, accountSID: account.accountSID, friendlyName: "Switchboard sandbox app",
                    voiceURL: application.voiceURL, voiceMethod: application.voiceMethod.uppercased(), createdAt: seeded,
                    updatedAt: seeded)
            }
        }
        for account in accounts.telnyx {
            guard let url = account.credentialConnectionWebhookURL else { continue }
            for connection in account.credentialConnectionIDs { world.credentialConnectionWebhooks[connection] = url }
        }
        state = Mutex(State(settings: settings, world: world))
    }

    var settings: CallScenarioSettings {
        get { state.withLock { $0.settings } }
        set { state.withLock { $0.settings = newValue } }
    }

    /// Changes the settings in place, atomically.
    func changeSettings(_ change: (inout CallScenarioSettings) -> Void) {
        state.withLock { change(&$0.settings) }
    }

    /// Whether `shutdown` has begun: stalled requests stop waiting.
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Marks the simulator as stopping.
    func stop() {
        state.withLock { $0.stopping = true }
    }

    /// Remembers a request the simulator answered.
    func record(_ request: RecordedRequest) {
        state.withLock { $0.requests.append(request) }
    }

    /// Remembers a webhook attempt.
    func record(_ webhook: DeliveredWebhook) {
        state.withLock { $0.webhooks.append(webhook) }
    }

    /// Remembers a TwiML fetch.
    func record(_ fetch: TwiMLFetch) {
        state.withLock { $0.twimlFetches.append(fetch) }
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    var webhooks: [DeliveredWebhook] { state.withLock { $0.webhooks } }
    var webhookCount: Int { state.withLock { $0.webhooks.count } }
    var twimlFetches: [TwiMLFetch] { state.withLock { $0.twimlFetches } }

    /// Where new lifecycles and work go; nil stops accepting them.
    func setJobs(_ continuation: AsyncStream<SimulatorJob>.Continuation?) {
        state.withLock { $0.jobs = continuation }
    }

    /// Schedules work that talks to receivers outside any lifecycle (a webhook an API action causes).
    func deliverLater(_ work: @escaping @Sendable (WebhookDeliverer) async -> Void) {
        let jobs = state.withLock { $0.jobs }
        jobs?.yield(.work(work))
    }

    /// Stores a new call and schedules its lifecycle; by default an outbound one chosen by its destination.
    func place(_ call: SimulatedCall, start: LifecycleStart? = nil) {
        let job = LifecycleJob(
            key: call.key, start: start ?? .outbound(CallOutcome(destination: call.to)), signal: HangupSignal(),
            answered: HangupSignal())
        let jobs = state.withLock { state in
            state.world.calls[call.key] = call
            state.signals[call.key] = job.signal
            state.answerSignals[call.key] = job.answered
            return state.jobs
        }
        jobs?.yield(.lifecycle(job))
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

    /// The call with this key, if any.
    func call(_ key: CallKey) -> SimulatedCall? {
        state.withLock { $0.world.calls[key] }
    }

    /// An account's calls with one provider, newest first.
    func calls(provider: ProviderKind, accountID: String) -> [SimulatedCall] {
        state.withLock { state in
            state.world.calls.values.filter { $0.key.provider == provider && $0.accountID == accountID }
                .sorted { $0.createdAt > $1.createdAt }
        }
    }

    /// Changes a call under the lock and returns the result and the changed call.
    func update<Result>(_ key: CallKey, _ change: (inout SimulatedCall) -> Result) -> (Result, SimulatedCall)? {
        state.withLock { state in
            guard var call = state.world.calls[key] else { return nil }
            let result = change(&call)
            state.world.calls[key] = call
            return (result, call)
        }
    }

    /// Hangs a call up through the API: ends it now and wakes its lifecycle to report the end.
    func hangUp(_ key: CallKey) -> (end: CallEnd?, call: SimulatedCall)? {
        finish(key) { $0.hangUpByAPI(at: Date()) }
    }

    /// Ends a call as `end` (the far end hung up) and wakes its lifecycle; nil when the call is unknown.
    func end(_ key: CallKey, as end: CallEnd) -> (end: CallEnd?, call: SimulatedCall)? {
        finish(key) { $0.finish(end, at: Date()) }
    }

    /// Ends a call by `change` under the lock, then wakes its lifecycle if it ended now.
    private func finish(
        _ key: CallKey, _ change: (inout SimulatedCall) -> CallEnd?
    ) -> (end: CallEnd?, call: SimulatedCall)? {
        let outcome = state.withLock { state -> (CallEnd?, SimulatedCall, HangupSignal?)? in
            guard var call = state.world.calls[key] else { return nil }
            let end = change(&call)
            state.world.calls[key] = call
            return (end, call, state.signals[key])
        }
        guard let outcome else { return nil }
        if outcome.0 != nil { outcome.2?.fire() }
        return (outcome.0, outcome.1)
    }

    /// Delivers `webhooks` in order, in the background (events of a call command, such as `call.speak.ended`).
    func deliverLater(_ webhooks: [PreparedWebhook]) {
        guard !webhooks.isEmpty else { return }
        let jobs = state.withLock { $0.jobs }
        jobs?.yield(.work { deliverer in for webhook in webhooks { await deliverer.deliver(webhook) } })
    }

    /// Wakes a parked leg's lifecycle to report that it was answered.
    func announceAnswer(_ key: CallKey) {
        let signal = state.withLock { $0.answerSignals[key] }
        signal?.fire()
    }

    /// Forgets a finished lifecycle's signals.
    func lifecycleFinished(_ key: CallKey) {
        state.withLock {
            _ = $0.signals.removeValue(forKey: key)
            _ = $0.answerSignals.removeValue(forKey: key)
        }
    }

    // MARK: - Transactions over calls, conferences and resources

    /// Reads the world under the lock.
    func read<Result>(_ body: (SimulatorWorld) -> Result) -> Result {
        state.withLock { body($0.world) }
    }

    /// Changes calls, conferences and resources at once; the conference events it records are rendered by `render`
    /// and queued for in-order delivery per conference, and the calls it ended have their lifecycles woken.
    ///
    /// `body` and `render` run under the lock: they must not call back into the store.
    func transact<Result>(
        render: (ConferenceEvent, SimulatorWorld) -> [PreparedWebhook] = { _, _ in [] },
        _ body: (inout SimulatorWorld, inout WorldEffects) -> Result
    ) -> Result {
        let (result, signals, drains, jobs) = state.withLock {
            state -> (Result, [HangupSignal], [String], AsyncStream<SimulatorJob>.Continuation?) in
            var effects = WorldEffects()
            let result = body(&state.world, &effects)
            var drains: [String] = []
            for event in effects.events {
                let id = event.conference.id
                if Self.enqueue(
                    render(event, state.world), into: &state.deliveryQueues[id, default: DeliveryQueue()],
                    settings: state.settings)
                {
                    drains.append(id)
                }
            }
            // Held (shuffled) webhooks go out once their conference has completed, whatever it reported.
            for (id, queue) in state.deliveryQueues where !queue.held.isEmpty {
                guard state.world.conferences[id]?.status == .completed else { continue }
                if Self.release(into: &state.deliveryQueues[id, default: DeliveryQueue()]), !drains.contains(id) {
                    drains.append(id)
                }
            }
            let signals = effects.endedCalls.compactMap { state.signals[$0] }
            return (result, signals, drains, state.jobs)
        }
        for signal in signals { signal.fire() }
        for id in drains {
            jobs?.yield(.work { deliverer in await self.drain(id, deliverer: deliverer) })
        }
        return result
    }

    /// Adds webhooks to a conference's queue (twice each when duplicating; held when shuffling); true when a drain
    /// must start.
    private static func enqueue(
        _ webhooks: [PreparedWebhook], into queue: inout DeliveryQueue, settings: CallScenarioSettings
    ) -> Bool {
        let copies = settings.duplicateEveryWebhook ? webhooks.flatMap { [$0, $0] } : webhooks
        if settings.shuffleWebhooks {
            queue.held += copies
        } else {
            queue.pending += copies
        }
        return startsDrain(&queue)
    }

    /// Moves held webhooks, shuffled, behind the pending ones; true when a drain must start.
    private static func release(into queue: inout DeliveryQueue) -> Bool {
        queue.pending += queue.held.shuffled()
        queue.held = []
        return startsDrain(&queue)
    }

    /// Marks the queue as draining when it has work and nobody drains it; true when a drain must start.
    private static func startsDrain(_ queue: inout DeliveryQueue) -> Bool {
        guard !queue.draining, !queue.pending.isEmpty else { return false }
        queue.draining = true
        return true
    }

    /// Delivers a conference's queued webhooks one at a time until the queue is empty.
    private func drain(_ id: String, deliverer: WebhookDeliverer) async {
        while !Task.isCancelled {
            let next = state.withLock { state -> PreparedWebhook? in
                guard var queue = state.deliveryQueues[id] else { return nil }
                guard !queue.pending.isEmpty else {
                    queue.draining = false
                    state.deliveryQueues[id] = queue
                    return nil
                }
                let webhook = queue.pending.removeFirst()
                state.deliveryQueues[id] = queue
                return webhook
            }
            guard let next else { return }
            await deliverer.deliver(next)
        }
    }
}
