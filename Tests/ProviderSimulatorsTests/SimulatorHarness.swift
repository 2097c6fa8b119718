import AsyncHTTPClient
import Foundation
import Logging
import ProviderSimulators

/// Accounts shared by every test: generating the Vonage RSA key is the slow part.
let sharedAccounts = Result { try SimulatorAccounts.random() }

/// A response as the tests read it.
struct HTTPResult: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object.
    func json() -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}

/// A running simulator plus a webhook receiver, torn down after each test.
struct SimulatorHarness {
    let simulator: ProviderSimulator
    let receiver: WebhookReceiver
    let accounts: SimulatorAccounts
    let vonagePrivateKeyPEM: String

    /// Call timings short enough for a fast suite.
    static let fast = CallScenarioSettings(
        ringDelay: .milliseconds(20), answerDelay: .milliseconds(30), talkTime: .milliseconds(60))

    /// Calls answered quickly that then stay up (for conferences) until hung up.
    static let talking = CallScenarioSettings(
        ringDelay: .milliseconds(10), answerDelay: .milliseconds(10), talkTime: .seconds(60))

    /// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !condition() {
            guard clock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    var urls: SimulatorBaseURLs { simulator.baseURLs }
    var twilio: SimulatorAccounts.Twilio { accounts.twilio[0] }
    var telnyx: SimulatorAccounts.Telnyx { accounts.telnyx[0] }
    var vonage: SimulatorAccounts.Vonage { accounts.vonage[0] }
    var plivo: SimulatorAccounts.Plivo { accounts.plivo[0] }

    /// Runs `body` against a fresh simulator and receiver, and stops both afterwards.
    static func run(
        settings: CallScenarioSettings = fast,
        configure: (inout SimulatorAccounts) -> Void = { _ in },
        _ body: (SimulatorHarness) async throws -> Void
    ) async throws {
        let (generated, privateKeys) = try sharedAccounts.get()
        var accounts = generated
        configure(&accounts)
        var logger = Logger(label: "simulator-under-test")
        logger.logLevel = .error
        let simulator = ProviderSimulator(accounts: accounts, settings: settings, logger: logger)
        let receiver = WebhookReceiver()
        try await simulator.start()
        do {
            try await receiver.start()
            try await body(
                SimulatorHarness(
                    simulator: simulator, receiver: receiver, accounts: accounts, vonagePrivateKeyPEM: privateKeys[0]))
        } catch {
            await simulator.shutdown()
            await receiver.stop()
            throw error
        }
        await simulator.shutdown()
        await receiver.stop()
    }

    /// Sends a request with the shared HTTP client.
    func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        var responseHeaders: [String: String] = [:]
        for header in response.headers { responseHeaders[header.name.lowercased()] = header.value }
        return HTTPResult(status: Int(response.status.code), headers: responseHeaders, body: Array(buffer: buffer))
    }

    /// An `Authorization: Basic` header.
    static func basic(_ user: String, _ password: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
    }

    /// A form body, percent-encoding all but unreserved characters.
    static func form(_ parameters: [(String, String)]) -> [UInt8] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let text = parameters.map { name, value in
            let encodedName = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
            let encodedValue = value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
            return "\(encodedName)=\(encodedValue)"
        }.joined(separator: "&")
        return Array(text.utf8)
    }

    /// A JSON body.
    static func json(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object))
    }
}
