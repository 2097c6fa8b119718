import ArgumentParser
import Foundation
import Logging
import ProviderSimulators
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `switchboard-simulators`: the four simulated providers on one loopback port, for the sandbox.
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-simulators",
        abstract: "SANDBOX: simulated Twilio, Telnyx, Vonage and Plivo APIs on 127.0.0.1. No real calls are made.")

    @Option(help: "Port to listen on at 127.0.0.1 (0 picks a free one).")
    var port: Int = 55480

    @Option(help: "Write the generated sandbox accounts here as JSON (mode 600: these are the sandbox's secrets).")
    var accountsFile: String?

    @Option(help: "Milliseconds from placing a call to ringing.")
    var ringDelayMs: Int = 500

    @Option(help: "Milliseconds from ringing to answer (or busy / no-answer).")
    var answerDelayMs: Int = 1500

    @Option(help: "Milliseconds from answer to hang-up.")
    var talkTimeMs: Int = 5000

    @Option(help: "Port of the simulated Odoo (JSON-RPC at /jsonrpc) at 127.0.0.1.")
    var odooPort: Int = 55481

    @Option(help: "Partners the simulated Odoo starts with (every tenth without a phone, every seventh a US national number).")
    var odooPartners: Int = 300

    @Flag(help: "Deliver every webhook twice.")
    var duplicateWebhooks = false

    @Flag(help: "Deliver each call's webhooks in a random order once it ends.")
    var shuffleWebhooks = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0...65535).contains(odooPort) else { throw ValidationError("--odoo-port must be between 0 and 65535") }
        guard (0...1_000_000).contains(odooPartners) else { throw ValidationError("--odoo-partners must be 0 to 1000000") }
        guard ringDelayMs >= 0, answerDelayMs >= 0, talkTimeMs >= 0 else {
            throw ValidationError("delays must not be negative")
        }
    }

    /// Parses the command line and serves until SIGINT or SIGTERM; exits with a message on errors.
    static func launch() async {
        do {
            let command = try parse()
            try await command.serve()
        } catch {
            exit(withError: error)
        }
    }

    func run() async throws {
        try await serve()
    }

    /// Starts the simulators, writes the accounts file, prints the banner, and runs until signalled.
    func serve() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let (accounts, privateKeys) = try SimulatorAccounts.random()
        let settings = CallScenarioSettings(
            ringDelay: .milliseconds(ringDelayMs), answerDelay: .milliseconds(answerDelayMs),
            talkTime: .milliseconds(talkTimeMs), duplicateEveryWebhook: duplicateWebhooks,
            shuffleWebhooks: shuffleWebhooks)
        let simulator = ProviderSimulator(
            accounts: accounts, settings: settings, logger: Logger(label: "switchboard.simulators"))
        let accountsFile = self.accountsFile
        let startupFailure = Mutex<String?>(nil)
        let odooKey = "sandbox-" + UUID().uuidString.lowercased()
        let odoo = OdooSimulator(
            database: "sandbox", users: [.init(login: "sandbox@example.com", uid: 2, apiKey: odooKey)])
        odoo.seed(count: odooPartners)
        try await odoo.start(port: odooPort, logger: Logger(label: "switchboard.simulators.odoo"))
        let odooURL = odoo.baseURL

        try await simulator.run(port: port) { boundPort in
            let urls = SimulatorBaseURLs(port: boundPort)
            if let accountsFile {
                do {
                    var document = AccountsDocument.make(accounts: accounts, vonagePrivateKeys: privateKeys, baseURLs: urls)
                    document["odoo"] = [
                        "url": odooURL, "database": "sandbox", "username": "sandbox@example.com", "api_key": odooKey,
                        "write_back": true,
                    ] as [String: Any]
                    try Self.writeAccounts(document, to: accountsFile)
                } catch {
                    startupFailure.withLock { $0 = "could not write \(accountsFile): \(error)" }
                    // runService stops gracefully on SIGTERM, which ends `run` and reports the failure below.
                    kill(getpid(), SIGTERM)
                    return
                }
            }
            Self.printBanner(urls: urls, accountsFile: accountsFile)
            print("  Odoo        \(odooURL)/jsonrpc (database sandbox, \(odooPartners) partners)")
            fflush(nil)
        }
        await odoo.shutdown()
        if let failure = startupFailure.withLock({ $0 }) {
            throw StartupError(description: failure)
        }
    }

    private static func printBanner(urls: SimulatorBaseURLs, accountsFile: String?) {
        let rule = String(repeating: "=", count: 64)
        print(rule)
        print("  SANDBOX — simulated providers, no real calls")
        print(rule)
        print("  Twilio      \(urls.twilio)")
        print("  Telnyx      \(urls.telnyx)")
        print("  Vonage      \(urls.vonage)")
        print("  Vonage REST \(urls.vonageRest)")
        print("  Plivo       \(urls.plivo)")
        if let accountsFile { print("  Accounts    \(accountsFile) (mode 600)") }
        print("  Destinations ending 0486 are busy, 0404 unanswered, 0500 failed.")
        print("  Faults: POST {\"api_fault\": \"none\"|\"stall\"|\"server_error\"} to \(urls.settings)")
        print(rule)
        // Scripts wait for the banner on a pipe, where stdout is otherwise block-buffered; nil flushes every stream.
        fflush(nil)
    }

    /// Writes `document` to a fresh owner-only file, then renames it into place so no reader sees it half-written.
    private static func writeAccounts(_ document: [String: Any], to path: String) throws {
        let data = try JSONSerialization.data(
            withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let temporaryPath = path + ".\(getpid()).tmp"
        if unlink(temporaryPath) != 0 && errno != ENOENT {
            throw AccountsFileError(operation: "remove a stale temporary file", code: errno)
        }
        // Created 0600 from the start, so the secrets are never readable by others, not even briefly.
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw AccountsFileError(operation: "create", code: errno) }
        var offset = 0
        let bytes = [UInt8](data) + [UInt8(ascii: "\n")]
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else {
                let code = errno
                close(descriptor)
                unlink(temporaryPath)
                throw AccountsFileError(operation: "write", code: code)
            }
            offset += written
        }
        close(descriptor)
        guard rename(temporaryPath, path) == 0 else {
            let code = errno
            unlink(temporaryPath)
            throw AccountsFileError(operation: "move into place", code: code)
        }
    }
}

/// The simulators started but could not finish setting up, so they stopped again.
struct StartupError: Error, CustomStringConvertible {
    var description: String
}

/// A failed system call while writing the accounts file.
struct AccountsFileError: Error, CustomStringConvertible {
    var operation: String
    var code: Int32

    var description: String { "cannot \(operation): \(String(cString: strerror(code)))" }
}
