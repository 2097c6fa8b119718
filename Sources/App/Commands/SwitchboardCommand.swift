import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Persistence
import PostgresNIO

/// The `switchboard` executable: the server and the operator's commands.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Multi-tenant telephony configuration and control server.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, OrganizationsCommand.self, APIKeysCommand.self,
            RotateMasterKeyCommand.self, GenerateMasterKeyCommand.self, UsersCommand.self,
            BenchSeedCommand.self,
        ],
        defaultSubcommand: ServeCommand.self)
}

/// Shared start-up of every command: environment, logging, the PostgreSQL client.
enum CommandEnvironment {
    static func load(needs: AppConfiguration.Needs) throws -> (AppConfiguration, Logger) {
        let configuration: AppConfiguration
        do {
            configuration = try AppConfiguration.load(from: ProcessInfo.processInfo.environment, needs: needs)
        } catch {
            throw ValidationError(error.description)
        }
        let format = configuration.logFormat
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "switchboard")
        logger.logLevel = level
        return (configuration, logger)
    }

    /// Runs `body` with a running PostgreSQL client, shut down afterwards.
    static func withPostgres<Result: Sendable>(
        _ configuration: AppConfiguration, logger: Logger, _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        guard let database = configuration.database else { throw ValidationError("SWITCHBOARD_DATABASE_URL is not set") }
        let client = PostgresClient(configuration: database, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Prints a value as one line of JSON on standard output.
    static func printJSON(_ value: some Encodable) throws {
        print(String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self))
    }
}

/// `switchboard serve`: runs the HTTP server until SIGINT/SIGTERM, then shuts down gracefully.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server.")

    func run() async throws {
        let (configuration, logger) = try CommandEnvironment.load(needs: [.database, .masterKeys])
        guard let database = configuration.database, let keyring = configuration.masterKeys else { return }
        let postgres = PostgresClient(configuration: database, backgroundLogger: logger)
        var app = buildApplication(
            configuration: configuration, postgres: postgres, sealer: SecretSealer(keyring: keyring), logger: logger)
        let migrationsDirectory = URL(fileURLWithPath: configuration.migrationsDirectory)
        app.beforeServerStarts {
            let pending = try await Migrator(client: postgres, logger: logger)
                .pending(Migrator.load(from: migrationsDirectory))
            guard pending.isEmpty else {
                throw ValidationError(
                    "\(pending.count) migration(s) pending (\(pending.map(\.name).joined(separator: ", "))); run 'switchboard migrate' first")
            }
        }
        logger.info(
            "starting switchboard",
            metadata: ["address": "\(configuration.host):\(configuration.port)", "master_key": .string(keyring.active.id)])
        try await app.runService()
    }
}

/// `switchboard migrate`: applies pending `sql/` files.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending SQL migrations.")

    func run() async throws {
        let (configuration, logger) = try CommandEnvironment.load(needs: [.database])
        let migrations = try Migrator.load(from: URL(fileURLWithPath: configuration.migrationsDirectory))
        let applied = try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
            try await Migrator(client: client, logger: logger).migrate(migrations)
        }
        print(applied.isEmpty ? "database is up to date (\(migrations.count) migrations)" : "applied \(applied.count): \(applied.map(\.name).joined(separator: ", "))")
    }
}

/// `switchboard organizations create --slug S --name N`.
struct OrganizationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "organizations", abstract: "Manage organizations.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization; prints it as JSON.")
        @Option(help: "URL-safe identifier: 2-63 of a-z, 0-9, '-'.") var slug: String
        @Option(help: "Display name.") var name: String

        func run() async throws {
            let (configuration, logger) = try CommandEnvironment.load(needs: [.database])
            let (slug, name) = try OrganizationController.validate(slug: slug, name: name)
            let organization = try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
                try await OrganizationStore(client: client).create(
                    slug: slug, name: name, actor: .commandLine, logger: logger)
            }
            try CommandEnvironment.printJSON(OrganizationController.OrganizationResponse(organization))
        }
    }
}

/// `switchboard api-keys create …`: the only way to mint the first platform or admin key.
struct APIKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-keys", abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; prints it (with the secret, shown once) as JSON.")
        @Option(help: "Organization id or slug (for admin and service keys).") var organization: String?
        @Option(help: "admin or service (with --organization).") var role: String?
        @Flag(help: "Create a platform key (no organization).") var platform = false
        @Option(help: "A name to recognise the key by.") var name: String?

        func validate() throws {
            if platform {
                guard organization == nil, role == nil || role == "platform" else {
                    throw ValidationError("--platform takes no --organization or --role")
                }
            } else {
                guard organization != nil, let role, role == "admin" || role == "service" else {
                    throw ValidationError("give --organization ID_OR_SLUG --role admin|service, or --platform")
                }
            }
        }

        func run() async throws {
            let (configuration, logger) = try CommandEnvironment.load(needs: [.database])
            let platform = platform
            let reference = organization
            let role = platform ? APIKeyRole.platform : APIKeyRole(rawValue: role ?? "") ?? .service
            let name = name ?? (platform ? "platform" : role.rawValue)
            let response = try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
                var organizationID: UUID?
                if let reference {
                    guard let found = try await OrganizationStore(client: client).find(reference, logger: logger) else {
                        throw ValidationError("no organization '\(reference)'")
                    }
                    organizationID = found.id
                }
                let (key, token) = try await APIKeyStore(client: client).create(
                    organizationID: organizationID, name: name, role: role, expiresAt: nil, actor: .commandLine,
                    logger: logger)
                return APIKeyController.KeyResponse(key, token: token)
            }
            try CommandEnvironment.printJSON(response)
        }
    }
}

/// `switchboard rotate-master-key`: re-seals every row under the active (first) master key.
struct RotateMasterKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-master-key",
        abstract: "Re-seal every configuration row still under an older master key with the active (first) one.",
        discussion: """
            Put the new key first in SWITCHBOARD_MASTER_KEYS and keep the old ones after it, run this, \
            then remove the old keys. Each row moves in its own transaction: safe to interrupt and re-run.
            """)
    @Option(help: "Rows per batch.") var batchSize = 100

    func run() async throws {
        let (configuration, logger) = try CommandEnvironment.load(needs: [.database, .masterKeys])
        guard let keyring = configuration.masterKeys else { return }
        let batchSize = max(1, batchSize)
        let report = try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
            try await MasterKeyRotation(client: client, sealer: SecretSealer(keyring: keyring))
                .run(batchSize: batchSize, logger: logger)
        }
        print(
            "moved \(report.moved) row(s) and \(report.previousMoved) previous secret(s) to master key '\(keyring.active.id)'; erased \(report.expiredErased) expired previous secret(s)")
    }
}

/// `switchboard generate-master-key --id ID`: prints a new `id:base64` entry.
struct GenerateMasterKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-master-key", abstract: "Print a new random master key entry for SWITCHBOARD_MASTER_KEYS.")
    @Option(help: "The key's id.") var id: String

    func run() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let entry = "\(id):\(Data(bytes).base64EncodedString())"
        _ = try MasterKeyring(parsing: entry)
        print(entry)
    }
}
