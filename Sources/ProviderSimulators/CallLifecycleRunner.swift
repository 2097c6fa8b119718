import Foundation

/// Plays each placed call through its life and sends the provider's webhooks on the way; runs queued work too.
struct CallLifecycleRunner: Sendable {
    let store: SimulatorStore
    let deliverer: WebhookDeliverer
    let sources: [ProviderKind: any WebhookSource]

    /// Runs every job from `jobs` as a child task until the stream ends or the task is cancelled.
    func run(_ jobs: AsyncStream<SimulatorJob>) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                switch job {
                case .lifecycle(let lifecycle):
                    group.addTask { await self.run(lifecycle) }
                case .work(let work):
                    group.addTask { await work(self.deliverer) }
                }
            }
        }
    }

    /// One call: outbound legs ring, then answer and complete or end busy / no-answer / failed; inbound legs start
    /// answered or parked and live until hung up. An API hangup cuts either short.
    func run(_ job: LifecycleJob) async {
        defer { store.lifecycleFinished(job.key) }
        guard let source = sources[job.key.provider] else { return }
        let settings = store.settings
        var held: [PreparedWebhook] = []

        /// Applies the event and sends its webhooks; returns the call when the event applied.
        @discardableResult
        func report(_ event: LifecycleEvent) async -> SimulatedCall? {
            guard !Task.isCancelled,
                let (applies, call) = store.update(job.key, { $0.apply(event, at: Date()) }), applies
            else { return nil }
            // An API hangup already recorded the real end; report that one.
            let reported: LifecycleEvent = call.end.map(LifecycleEvent.ended) ?? event
            for webhook in await source.webhooks(for: reported, call: call) {
                let copies = settings.duplicateEveryWebhook ? [webhook, webhook] : [webhook]
                if settings.shuffleWebhooks {
                    held += copies
                } else {
                    for copy in copies { await deliverer.deliver(copy) }
                }
            }
            return call
        }

        /// Reports the answer, then lets the provider act on it (fetch and execute TwiML).
        func answer() async {
            guard let call = await report(.answered), !call.hasEnded, !Task.isCancelled else { return }
            await source.callAnswered(call, deliverer: deliverer)
        }

        // Each wait returns true when the call was hung up (or the simulator stopped) meanwhile.
        func outbound(_ outcome: CallOutcome) async {
            await report(.initiated)
            if outcome == .failed {
                await report(.ended(.failed))
                return
            }
            if await job.signal.sleep(for: settings.ringDelay) {
                await report(.ended(.canceled))
                return
            }
            await report(.ringing)
            if await job.signal.sleep(for: settings.answerDelay) {
                await report(.ended(.canceled))
                return
            }
            switch outcome {
            case .busy:
                await report(.ended(.busy))
            case .noAnswer:
                await report(.ended(.noAnswer))
            case .failed, .answered:
                await answer()
                if await job.signal.sleep(for: settings.talkTime) {
                    await report(.ended(.hungUpByCaller))
                } else {
                    await report(.ended(.completed))
                }
            }
        }

        func answeredOnArrival() async {
            if let call = store.call(job.key), !call.hasEnded {
                await source.callAnswered(call, deliverer: deliverer)
            }
            await job.signal.wait()
            await report(.ended(.hungUpByCaller))
        }

        func parked() async {
            await report(.initiated)
            let answered = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await job.signal.wait()
                    return false
                }
                group.addTask {
                    await job.answered.wait()
                    return true
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            // A hangup that raced the answer wins.
            guard answered, store.call(job.key)?.hasEnded == false else {
                await report(.ended(.canceled))
                return
            }
            await answer()
            await job.signal.wait()
            await report(.ended(.hungUpByCaller))
        }

        switch job.start {
        case .outbound(let outcome): await outbound(outcome)
        case .answeredOnArrival: await answeredOnArrival()
        case .parked: await parked()
        }
        guard !Task.isCancelled else { return }
        if let call = store.call(job.key), call.hasEnded {
            await source.callEnded(call)
        }
        for webhook in held.shuffled() {
            await deliverer.deliver(webhook)
        }
    }
}
