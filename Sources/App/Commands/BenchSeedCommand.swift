import ArgumentParser
import Foundation
import Logging
import Persistence
import PostgresNIO
import Providers

/// `switchboard bench-seed`: fills an empty database with many organizations for `scripts/bench`
/// and `scripts/faults`, and writes the files the load generators read.
///
/// Every organization gets one service API key and the simulator's Twilio account as its sealed
/// `TWILIO_CONFIGURATION` (validated and masked exactly as the API would, sealed per organization
/// by the configuration store's sealer). Rows go in with batched multi-row inserts, so 100,000
/// organizations take seconds. Output, in `--out-dir` (mode 600: the files hold API keys):
/// - `organizations.tsv`: `id<TAB>api key`, one organization a line;
/// - `webhooks.tsv`: `path<TAB>form body<TAB>X-Twilio-Signature`, signed Twilio status webhooks for
///   random organizations, each about its own seeded call (so each is stored once: an event of an
///   unknown call is stored nowhere), signed against `SWITCHBOARD_PUBLIC_URL` as the server verifies them.
struct BenchSeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-seed",
        abstract: "Seed an EMPTY database with many organizations for load tests (scripts/bench, scripts/faults).")

    @Option(help: "How many organizations to create.") var orgs = 10_000
    @Option(help: "The simulators' accounts file (switchboard-simulators --accounts-file); its Twilio account is stored for every organization.")
    var accountsFile: String
    @Option(help: "Directory for organizations.tsv and webhooks.tsv.") var outDir: String
    @Option(help: "How many signed Twilio status webhooks to write.") var webhooks = 0
    @Option(help: "Organizations per transaction.") var batchSize = 1_000
    @Option(help: "Slugs are PREFIX-1, PREFIX-2, …") var slugPrefix = "bench"

    func validate() throws {
        guard (1...1_000_000).contains(orgs) else { throw ValidationError("--orgs must be 1 to 1000000") }
        guard (0...10_000_000).contains(webhooks) else { throw ValidationError("--webhooks must be 0 to 10000000") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 10000") }
        guard slugPrefix.range(of: "^[a-z0-9][a-z0-9-]{0,40}$", options: .regularExpression) != nil else {
            throw ValidationError("--slug-prefix must be lowercase letters, digits and '-' (up to 41)")
        }
    }

    func run() async throws {
        let (configuration, logger) = try CommandEnvironment.load(needs: [.database, .masterKeys])
        guard let keyring = configuration.masterKeys else { return }
        let twilio = try BenchTwilioAccount.load(from: accountsFile)
        let document = try BenchTwilioAccount.configurationWrite(twilio.document)
        let outDir = URL(fileURLWithPath: outDir, isDirectory: true)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let (orgs, batchSize, slugPrefix) = (orgs, batchSize, slugPrefix)
        let clock = ContinuousClock()
        let start = clock.now

        let seeded = try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
            let seeder = BulkSeeder(client: client, sealer: SecretSealer(keyring: keyring))
            guard try await seeder.databaseIsEmpty(logger: logger) else {
                throw ValidationError(
                    "bench-seed only fills an empty database and this one has organizations; point SWITCHBOARD_DATABASE_URL at a fresh one (scripts/bench uses switchboard_bench)")
            }
            var all: [BulkSeeder.Seeded] = []
            all.reserveCapacity(orgs)
            for batchStart in stride(from: 0, to: orgs, by: batchSize) {
                let batch = (batchStart..<min(orgs, batchStart + batchSize)).map { index in
                    BulkSeeder.NewOrganization(slug: "\(slugPrefix)-\(index + 1)", name: "Bench organization \(index + 1)")
                }
                all += try await seeder.insert(
                    batch, documents: [.init(key: ConfigurationKey.twilio.rawValue, write: document)],
                    role: .service, logger: logger)
                if all.count % 10_000 == 0 || all.count == orgs {
                    FileHandle.standardError.write(Data("bench-seed: \(all.count)/\(orgs) organizations\n".utf8))
                }
            }
            return all
        }
        let seededAt = clock.now

        try BenchFiles.write(
            seeded.map { "\($0.id.lowercasedString)\t\($0.apiKey)\n" }.joined(),
            to: outDir.appendingPathComponent("organizations.tsv"))
        // Every organization once first (scripts/bench sends those to warm the provider cache), then random ones.
        let ids = seeded.map(\.id)
        let targets = Array(ids.shuffled().prefix(webhooks)) + (0..<max(0, webhooks - ids.count)).map { _ in ids.randomElement()! }
        let from = twilio.fromNumbers.first ?? "+14155550100"
        let planned = targets.map { organizationID in
            BulkSeeder.PlacedCall(
                organizationID: organizationID, providerCallID: BenchWebhook.randomCallSID(), from: from,
                to: "+1415556\(Int.random(in: 1000...9999))")
        }
        // Each webhook reports on a call of its organization: an event of an unknown call is stored nowhere.
        if !planned.isEmpty {
            try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
                let seeder = BulkSeeder(client: client, sealer: SecretSealer(keyring: keyring))
                for start in stride(from: 0, to: planned.count, by: 10_000) {
                    try await seeder.insertCalls(Array(planned[start..<min(planned.count, start + 10_000)]), logger: logger)
                }
            }
        }
        let lines = await BenchWebhook.lines(for: planned, account: twilio, publicURL: configuration.publicURL)
        try BenchFiles.write(lines, to: outDir.appendingPathComponent("webhooks.tsv"))

        let seconds = (seededAt - start).milliseconds / 1000
        let total = (clock.now - start).milliseconds / 1000
        print(
            #"{"organizations": \#(seeded.count), "webhooks": \#(webhooks), "seed_seconds": \#(String(format: "%.2f", seconds)), "total_seconds": \#(String(format: "%.2f", total))}"#)
    }
}

/// The simulator's Twilio account, read from its accounts file.
struct BenchTwilioAccount: Sendable {
    let accountSID: String
    let authToken: String
    let fromNumbers: [String]
    /// The account as a `TWILIO_CONFIGURATION` document.
    let document: [String: JSONValue]

    /// Reads the `twilio` entry of a `switchboard-simulators --accounts-file` file.
    static func load(from path: String) throws -> BenchTwilioAccount {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("cannot read --accounts-file \(path): \(error.localizedDescription)")
        }
        guard case .object(let accounts)? = try? JSONCoding.decoder.decode(JSONValue.self, from: data),
            case .object(let twilio)? = accounts["twilio"],
            let sid = twilio["account_sid"]?.stringValue, let token = twilio["auth_token"]?.stringValue,
            case .array(let numbers)? = twilio["from_numbers"]
        else {
            throw ValidationError("--accounts-file \(path) has no twilio account (account_sid, auth_token, from_numbers)")
        }
        return BenchTwilioAccount(
            accountSID: sid, authToken: token, fromNumbers: numbers.compactMap(\.stringValue), document: twilio)
    }

    /// The document validated and masked as `PUT …/configuration/TWILIO_CONFIGURATION` would store it.
    static func configurationWrite(_ document: [String: JSONValue]) throws -> ConfigurationWrite {
        let schema = ConfigurationSchema.forKey(.twilio)
        do {
            return try ConfigurationController.write(schema.validate(document), schema: schema, auditDetails: [:])
        } catch let error as ConfigurationValidationError {
            throw ValidationError("the simulator's Twilio account is not a valid TWILIO_CONFIGURATION: \(error)")
        }
    }
}

/// One signed Twilio status callback, as Twilio would send it for a call of the organization.
struct BenchWebhook {
    let path: String
    let body: String
    let signature: String

    /// `path<TAB>body<TAB>signature` lines, one per organization of `targets` (in that order),
    /// signed on all cores.
    static func lines(for targets: [BulkSeeder.PlacedCall], account: BenchTwilioAccount, publicURL: String) async -> String {
        let timestamp = timestampFormatter.string(from: Date())
        let chunks = stride(from: 0, to: targets.count, by: 10_000).map { Array(targets[$0..<min(targets.count, $0 + 10_000)]) }
        return await withTaskGroup(of: (Int, String).self) { group in
            for (index, chunk) in chunks.enumerated() {
                group.addTask {
                    var text = ""
                    text.reserveCapacity(chunk.count * 480)
                    for call in chunk {
                        let webhook = ringing(call, account: account, publicURL: publicURL, timestamp: timestamp)
                        text += "\(webhook.path)\t\(webhook.body)\t\(webhook.signature)\n"
                    }
                    return (index, text)
                }
            }
            var parts = [String](repeating: "", count: chunks.count)
            for await (index, text) in group { parts[index] = text }
            return parts.joined()
        }
    }

    /// A fresh random CallSid.
    static func randomCallSID() -> String {
        "CA" + hex(UInt64.random(in: .min ... .max)) + hex(UInt64.random(in: .min ... .max))
    }

    /// The `ringing` status callback of `call`.
    static func ringing(_ call: BulkSeeder.PlacedCall, account: BenchTwilioAccount, publicURL: String, timestamp: String)
        -> BenchWebhook
    {
        let path = "/api/v1/telephony/webhooks/twilio/\(call.organizationID.lowercasedString)/status"
        let (from, to, callSID) = (call.from, call.to, call.providerCallID)
        let parameters = [
            ("AccountSid", account.accountSID), ("ApiVersion", "2010-04-01"), ("CallSid", callSID),
            ("CallStatus", "ringing"), ("CallbackSource", "call-progress-events"), ("Called", to), ("Caller", from),
            ("Direction", "outbound-api"), ("From", from), ("SequenceNumber", "1"), ("Timestamp", timestamp), ("To", to),
        ]
        return BenchWebhook(
            path: path, body: parameters.map { "\(formEscape($0.0))=\(formEscape($0.1))" }.joined(separator: "&"),
            signature: TwilioSignature.compute(authToken: account.authToken, url: publicURL + path, parameters: parameters))
    }

    /// 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// RFC 2822, as Twilio writes `Timestamp`.
    private static let timestampFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }()

    /// `application/x-www-form-urlencoded` escaping: ASCII letters, digits and `-._*` as they are,
    /// space as `+`, every other byte as `%XX`.
    static func formEscape(_ value: String) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var escaped: [UInt8] = []
        escaped.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                escaped.append(byte)
            case UInt8(ascii: " "):
                escaped.append(UInt8(ascii: "+"))
            default:
                escaped += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}

/// Writes load-test files readable by their owner only (they hold API keys).
enum BenchFiles {
    static func write(_ text: String, to url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        guard
            FileManager.default.createFile(
                atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ValidationError("cannot write \(url.path)")
        }
    }
}
