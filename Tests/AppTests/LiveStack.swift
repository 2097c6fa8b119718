import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Persistence
import PostgresNIO
import ProviderSimulators
import ServiceLifecycle
import Providers
import TestSupport
import Synchronization
import Testing

@testable import App

/// Switchboard listening on a real loopback port, wired to the provider simulators, which call
/// its webhooks back over the network — the whole stack a provider call crosses.
struct LiveStack {
    let harness: AppHarness
    let simulator: ProviderSimulator
    let accounts: SimulatorAccounts
    let vonagePrivateKeyPEM: String
    let baseURL: String
    /// Every line the server logged, at trace level.
    let logs: LogCapture
    /// The server's configuration (simulator endpoints, public URL), for a second instance.
    let configuration: AppConfiguration

    /// Every credential of every simulated account, to search logs and responses for.
    var secrets: [String] {
        accounts.twilio.flatMap { [$0.authToken] + $0.apiKeys.map(\.secret) }
            + accounts.telnyx.map(\.apiKey)
            + accounts.vonage.flatMap { [$0.apiSecret, $0.signatureSecret] } + [vonagePrivateKeyPEM]
            + accounts.plivo.map(\.authToken)
    }

    /// Ports for live servers: unique within this test process and below Linux's ephemeral range,
    /// so two stacks never share one. (Bind-to-0-and-release is racy: a parallel stack can be handed
    /// the same port and then talk to the wrong server.)
    private static let nextPort = Mutex(20_000 + Int(getpid() % 400) * 25)

    static func allocatePort() -> Int {
        nextPort.withLock { port in
            defer { port = port >= 32_000 ? 20_000 : port + 1 }
            return port
        }
    }

    static func run(
        settings: CallScenarioSettings = .init(), accounts configure: (inout SimulatorAccounts) -> Void = { _ in },
        server: (inout AppConfiguration, SimulatorAccounts) throws -> Void = { _, _ in },
        _ body: @Sendable (LiveStack) async throws -> Void
    ) async throws {
        var (accounts, vonageKeys) = try SimulatorAccounts.random()
        configure(&accounts)
        let simulator = ProviderSimulator(accounts: accounts, settings: settings)
        try await simulator.start()
        let port = allocatePort()
        var configuration = AppConfiguration()
        configuration.publicURL = "http://127.0.0.1:\(port)"
        configuration.providerTimeout = .seconds(3)
        configuration.endpoints.twilio = simulator.baseURLs.twilio
        configuration.endpoints.telnyx = simulator.baseURLs.telnyx
        configuration.endpoints.vonage = simulator.baseURLs.vonage
        configuration.endpoints.vonageREST = simulator.baseURLs.vonageRest
        configuration.endpoints.plivo = simulator.baseURLs.plivo
        try server(&configuration, accounts)
        do {
            try await TestDatabase.withMigratedDatabase { postgres, _ in
                let harness = try await AppHarness.make(postgres: postgres, configuration: configuration)
                let logs = LogCapture()
                let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
                let app = Application(
                    router: buildRouter(harness.dependencies),
                    configuration: .init(address: .hostname("127.0.0.1", port: port)),
                    onServerRunning: { _ in startedContinuation.yield() }, logger: logs.logger(label: "live"))
                // A graceful shutdown (not cancellation) lets the server finish open connections.
                let services = ServiceGroup(
                    configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logs.logger(label: "services")))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // If our server cannot bind, end the wait below instead of hanging.
                        defer { startedContinuation.finish() }
                        try await services.run()
                    }
                    let stack = LiveStack(
                        harness: harness, simulator: simulator, accounts: accounts,
                        vonagePrivateKeyPEM: vonageKeys.first ?? "", baseURL: "http://127.0.0.1:\(port)", logs: logs,
                        configuration: configuration)
                    do {
                        var iterator = started.makeAsyncIterator()
                        guard await iterator.next() != nil else {
                            throw LiveStackError.serverDidNotStart(port: port)
                        }
                        try await body(stack)
                    } catch {
                        await services.triggerGracefulShutdown()
                        throw error
                    }
                    await services.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        } catch {
            await simulator.shutdown()
            throw error
        }
        await simulator.shutdown()
    }

    /// One HTTP request to Switchboard over the socket.
    func send(
        _ method: HTTPMethod, _ path: String, key: String? = nil, json: [String: Any]? = nil,
        raw: (contentType: String, body: String)? = nil, headers extra: [(String, String)] = []
    ) async throws
        -> (status: Int, object: [String: Any], text: String)
    {
        try await Self.request(method, baseURL + path, key: key, json: json, raw: raw, headers: extra)
    }

    /// One HTTP request to any URL (Switchboard or the simulators' browser routes).
    static func request(
        _ method: HTTPMethod, _ url: String, key: String? = nil, json: [String: Any]? = nil,
        raw: (contentType: String, body: String)? = nil, headers extra: [(String, String)] = []
    ) async throws
        -> (status: Int, object: [String: Any], text: String)
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        } else if let raw {
            request.headers.add(name: "Content-Type", value: raw.contentType)
            request.body = .bytes(ByteBuffer(string: raw.body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let text = String(buffer: body)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        return (Int(response.status.code), object, text)
    }

    /// Stores the simulated account of `provider` as Acme's configuration and makes it the default.
    func configure(_ provider: ProviderName) async throws {
        let document: [String: Any]
        switch provider {
        case .twilio:
            let account = try #require(accounts.twilio.first)
            document = ["account_sid": account.accountSID, "auth_token": account.authToken, "from_numbers": Array(account.numbers.prefix(20))]
        case .telnyx:
            let account = try #require(accounts.telnyx.first)
            document = [
                "api_key": account.apiKey, "connection_id": account.connectionIDs[0], "from_numbers": Array(account.numbers.prefix(20)),
                "public_key": account.publicKeyBase64,
            ]
        case .vonage:
            let account = try #require(accounts.vonage.first)
            document = [
                "api_key": account.apiKey, "api_secret": account.apiSecret, "application_id": account.applicationID,
                "private_key": vonagePrivateKeyPEM, "signature_secret": account.signatureSecret,
                "from_numbers": Array(account.numbers.prefix(20)),
            ]
        case .plivo:
            let account = try #require(accounts.plivo.first)
            document = ["auth_id": account.authID, "auth_token": account.authToken, "from_numbers": Array(account.numbers.prefix(20))]
        }
        let put = try await send(
            .PUT, "/api/v1/organizations/acme/configuration/\(provider.configurationKey.rawValue)", key: harness.acmeAdmin,
            json: document)
        #expect(put.status == 201, "storing \(provider.rawValue): \(put.text)")
        let choose = try await send(
            .PUT, "/api/v1/organizations/acme/configuration/TELEPHONY_PROVIDER", key: harness.acmeAdmin,
            json: ["provider": provider.rawValue], headers: try await ifMatch("TELEPHONY_PROVIDER"))
        #expect(choose.status == 200 || choose.status == 201, "choosing \(provider.rawValue): \(choose.text)")
    }

    /// `If-Match` with the stored version of Acme's `key`, or nothing when it is not stored (a
    /// first PUT needs none; replacing needs it).
    func ifMatch(_ key: String) async throws -> [(String, String)] {
        let current = try await send(.GET, "/api/v1/organizations/acme/configuration/\(key)", key: harness.acmeAdmin)
        guard current.status == 200, let version = current.object["version"] as? Int else { return [] }
        return [("If-Match", "\"\(version)\"")]
    }

    /// Polls the call until its status is terminal (or 15 s pass: the suite runs in parallel on
    /// two cores); returns the last answer.
    func waitForEnd(of callID: String) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(15) {
            last = try await send(.GET, "/api/v1/telephony/calls/\(callID)", key: harness.acmeService).object
            if let status = last["status"] as? String, CallStatus(rawValue: status)?.isTerminal == true { return last }
            try await Task.sleep(for: .milliseconds(20))
        }
        return last
    }
}

/// The live server never started (its port was taken).
enum LiveStackError: Error {
    case serverDidNotStart(port: Int)
}
