import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// Why the simulator could not do what was asked.
public enum ProviderSimulatorError: Error, Equatable {
    /// `start` or `run` was called on a simulator that is running or was shut down.
    case alreadyStarted
    /// The server stopped before it was listening (e.g. the port was taken).
    case serverDidNotStart
}

/// All four provider APIs on one loopback port.
public final class ProviderSimulator: Sendable {
    private struct Runtime {
        var port: Int?
        var serverTask: Task<Void, any Error>?
        var serviceGroup: ServiceGroup?
        var httpClient: HTTPClient?
        var jobs: AsyncStream<SimulatorJob>.Continuation?
        var used = false
    }

    private let accounts: SimulatorAccounts
    private let logger: Logger
    private let store: SimulatorStore
    private let runtime = Mutex(Runtime())

    /// Creates a simulator for `accounts`; nothing listens until `start` or `run`.
    public init(
        accounts: SimulatorAccounts,
        settings: CallScenarioSettings = .init(),
        logger: Logger = Logger(label: "switchboard.provider-simulators")
    ) {
        self.accounts = accounts
        self.logger = logger
        self.store = SimulatorStore(settings: settings, accounts: accounts)
    }

    /// Starts listening on 127.0.0.1 (port 0 = any free port); returns when the port is bound.
    public func start(port: Int = 0) async throws {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let task = try launch(
            port: port, stopsOnSignals: false,
            onRunning: { boundPort in
                self.runtime.withLock { $0.port = boundPort }
                portContinuation.yield(boundPort)
                portContinuation.finish()
            },
            onStopped: { portContinuation.finish() })
        var iterator = ports.makeAsyncIterator()
        guard await iterator.next() == nil else { return }
        let outcome = await task.result
        await shutdown()
        try outcome.get()
        throw ProviderSimulatorError.serverDidNotStart
    }

    /// Serves on 127.0.0.1:`port` until SIGINT or SIGTERM (or `shutdown`), calling `onStarted` with the bound port once listening.
    public func run(port: Int, onStarted: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let task = try launch(
            port: port, stopsOnSignals: true,
            onRunning: { boundPort in
                self.runtime.withLock { $0.port = boundPort }
                await onStarted(boundPort)
            },
            onStopped: {})
        let outcome = await withTaskCancellationHandler {
            await task.result
        } onCancel: {
            task.cancel()
        }
        await shutdown()
        try outcome.get()
    }

    /// Runs the server and the call lifecycles in one task that `shutdown` stops.
    private func launch(
        port: Int, stopsOnSignals: Bool, onRunning: @escaping @Sendable (Int) async -> Void,
        onStopped: @escaping @Sendable () -> Void
    ) throws -> Task<Void, any Error> {
        let (application, runner) = try prepare(port: port, onRunning: onRunning)
        // A service group lets `shutdown` stop the server gracefully instead of cancelling it mid-connection.
        let serviceGroup = ServiceGroup(
            services: [application], gracefulShutdownSignals: stopsOnSignals ? [.sigterm, .sigint] : [], logger: logger)
        let task = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await runner() }
                defer {
                    onStopped()
                    group.cancelAll()
                }
                try await serviceGroup.run()
            }
        }
        runtime.withLock {
            $0.serverTask = task
            $0.serviceGroup = serviceGroup
        }
        return task
    }

    /// Builds the server and the lifecycle runner; each simulator serves once.
    private func prepare(
        port: Int, onRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> (some ApplicationProtocol, @Sendable () async -> Void) {
        let (jobs, jobsContinuation) = AsyncStream.makeStream(of: SimulatorJob.self)
        let client = try runtime.withLock { runtime -> HTTPClient in
            guard !runtime.used else { throw ProviderSimulatorError.alreadyStarted }
            let client = HTTPClient(
                eventLoopGroupProvider: .singleton,
                configuration: .init(
                    redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(15))))
            runtime.used = true
            runtime.httpClient = client
            runtime.jobs = jobsContinuation
            return client
        }
        store.setJobs(jobsContinuation)

        let twilio = TwilioAPI(accounts: accounts.twilio, store: store)
        let telnyx = TelnyxAPI(accounts: accounts.telnyx, store: store)
        let vonage = VonageAPI(accounts: accounts.vonage, store: store)
        let plivo = PlivoAPI(accounts: accounts.plivo, store: store)
        let runner = CallLifecycleRunner(
            store: store, deliverer: WebhookDeliverer(client: client, store: store, logger: logger),
            sources: [.twilio: twilio, .telnyx: telnyx, .vonage: vonage, .plivo: plivo])
        let responder = SimulatorResponder(store: store, twilio: twilio, telnyx: telnyx, vonage: vonage, plivo: plivo)
        let application = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
        return (application, { await runner.run(jobs) })
    }

    /// Stops the server and every call lifecycle, then closes the webhook client; safe to call more than once.
    public func shutdown() async {
        let (task, serviceGroup, client, jobs) = runtime.withLock { runtime in
            defer {
                runtime.serverTask = nil
                runtime.serviceGroup = nil
                runtime.httpClient = nil
                runtime.jobs = nil
                runtime.used = true
            }
            return (runtime.serverTask, runtime.serviceGroup, runtime.httpClient, runtime.jobs)
        }
        // Stalled requests answer now instead of holding the graceful shutdown.
        store.stop()
        store.setJobs(nil)
        jobs?.finish()
        if let task {
            await serviceGroup?.triggerGracefulShutdown()
            // Graceful shutdown waits for open requests; past a few seconds, cancel them.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { _ = await task.result }
                group.addTask {
                    try? await Task.sleep(for: .seconds(3))
                    task.cancel()
                }
                await group.next()
                group.cancelAll()
            }
            _ = await task.result
        }
        do {
            try await client?.shutdown()
        } catch {
            logger.debug("Webhook client shutdown failed", metadata: ["error": "\(error)"])
        }
    }

    /// The bound port (0 before the server is listening).
    public var port: Int {
        runtime.withLock { $0.port ?? 0 }
    }

    /// The base URLs to use in place of the real providers'.
    public var baseURLs: SimulatorBaseURLs {
        SimulatorBaseURLs(port: port)
    }

    /// Every request received so far, oldest first.
    public func requests() -> [RecordedRequest] {
        store.requests
    }

    /// Every webhook attempted so far, in the order the attempts finished.
    public func webhooks() -> [DeliveredWebhook] {
        store.webhooks
    }

    /// Waits until at least `count` webhooks were attempted or `timeout` passes, then returns them all.
    public func waitForWebhooks(count: Int, timeout: Duration) async -> [DeliveredWebhook] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while store.webhookCount < count && clock.now < deadline {
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                break
            }
        }
        return store.webhooks
    }

    /// Every TwiML request the simulated Twilio made (call `Url`s, application voice URLs), oldest first; these are
    /// not in `webhooks()`.
    public func twimlFetches() -> [TwiMLFetch] {
        store.twimlFetches
    }

    /// Every Twilio and Telnyx conference, in creation order, with everyone who ever joined.
    public func conferences() -> [SimulatedConferenceSnapshot] {
        store.read { world in world.conferenceOrder.compactMap { world.conferences[$0]?.snapshot } }
    }

    /// Every Telnyx telephony credential created through the API, in creation order.
    public func telnyxCredentials() -> [TelnyxCredentialSnapshot] {
        store.read { world in
            world.telnyxCredentialOrder.compactMap { world.telnyxCredentials[$0] }.map {
                TelnyxCredentialSnapshot(
                    id: $0.id, connectionID: $0.connectionID, sipUsername: $0.sipUsername, sipPassword: $0.sipPassword,
                    expiresAt: $0.expiresAt)
            }
        }
    }

    /// Changes how calls placed from now on behave; `apiFault` applies at once, also to requests already stalled.
    public func update(settings: CallScenarioSettings) {
        store.settings = settings
    }
}
