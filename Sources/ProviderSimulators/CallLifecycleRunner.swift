import Foundation

/// Plays each placed call through its life and sends the provider's webhooks on the way.
struct CallLifecycleRunner: Sendable {
    let store: SimulatorStore
    let deliverer: WebhookDeliverer
    let sources: [ProviderKind: any WebhookSource]

    /// Runs every job from `jobs` as a child task until the stream ends or the task is cancelled.
    func run(_ jobs: AsyncStream<LifecycleJob>) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.run(job) }
            }
        }
    }

    /// One call: initiated, ringing, then answered and completed, or busy / no-answer / failed; an API hangup cuts it short.
    func run(_ job: LifecycleJob) async {
        defer { store.lifecycleFinished(job.key) }
        let settings = store.settings
        var held: [PreparedWebhook] = []

        func report(_ event: LifecycleEvent) async {
            guard !Task.isCancelled,
                let (applies, call) = store.update(job.key, { $0.apply(event, at: Date()) }), applies
            else { return }
            // An API hangup already recorded the real end; report that one.
            let reported: LifecycleEvent = call.end.map(LifecycleEvent.ended) ?? event
            guard let source = sources[job.key.provider] else { return }
            for webhook in await source.webhooks(for: reported, call: call) {
                let copies = settings.duplicateEveryWebhook ? [webhook, webhook] : [webhook]
                if settings.shuffleWebhooks {
                    held += copies
                } else {
                    for copy in copies { await deliverer.deliver(copy) }
                }
            }
        }

        // Each wait returns true when the call was hung up (or the simulator stopped) meanwhile.
        func timeline() async {
            await report(.initiated)
            if job.outcome == .failed {
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
            switch job.outcome {
            case .busy:
                await report(.ended(.busy))
            case .noAnswer:
                await report(.ended(.noAnswer))
            case .failed, .answered:
                await report(.answered)
                if await job.signal.sleep(for: settings.talkTime) {
                    await report(.ended(.hungUpByCaller))
                } else {
                    await report(.ended(.completed))
                }
            }
        }

        await timeline()
        guard !Task.isCancelled else { return }
        for webhook in held.shuffled() {
            await deliverer.deliver(webhook)
        }
    }
}
