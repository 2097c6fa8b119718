import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Persistence
import PostgresNIO
import TestSupport
import Testing
import AsyncHTTPClient

@testable import App

extension AppDependencies {
    /// The production graph on a test database, a fresh master key and the shared HTTP client.
    /// Unless the configuration names a database, reachability is checked against the test cluster
    /// (the server `postgres` is a client of).
    static func forTesting(
        postgres: PostgresClient, configuration: AppConfiguration = AppConfiguration(), keyring: MasterKeyring? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> AppDependencies {
        var configuration = configuration
        if configuration.database == nil { configuration.database = try TestDatabase.maintenanceConfiguration() }
        var dependencies = AppDependencies(
            postgres: postgres, sealer: SecretSealer(keyring: try keyring ?? TestKeys.keyring()), httpClient: .shared,
            configuration: configuration, logger: TestDatabase.logger, now: now)
        // bcrypt's cheapest cost: the production cost (PasswordHasherTests checks it) takes 0.4–2 s a
        // hash on these cores, and the console suites hash often enough to starve the timing-sensitive
        // simulator suites running beside them.
        dependencies.passwordHasher.cost = PasswordHasher.testCost
        return dependencies
    }
}

/// A migrated database, the production router on it, and two organizations with keys.
struct AppHarness {
    let postgres: PostgresClient
    let dependencies: AppDependencies
    /// The master keys; a second instance built with them shares every derived key.
    let keyring: MasterKeyring
    let platformKey: String
    let acme: Organization
    let globex: Organization
    let acmeAdmin: String
    let acmeService: String
    let globexAdmin: String

    /// Test-only credentials; none is real.
    enum Secrets {
        static let twilioAuthToken = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
        static let rotatedAuthToken = "fedcba9876543210fedcba9876543210"
        static let twilioAccountSID = "AC0123456789abcdef0123456789abcdef"
        static let plivoAuthToken = "test-only-plivo-auth-token-value"
    }

    static let twilioDocument: JSONBody = [
        "account_sid": .string(Secrets.twilioAccountSID), "auth_token": .string(Secrets.twilioAuthToken),
        "from_numbers": .array([.string("+14155550100")]),
    ]

    /// Builds the dependencies on `postgres` and seeds the platform key, Acme and Globex with keys.
    static func make(postgres: PostgresClient, configuration: AppConfiguration) async throws -> AppHarness {
        let keyring = try TestKeys.keyring()
        let dependencies = try AppDependencies.forTesting(postgres: postgres, configuration: configuration, keyring: keyring)
        let log = TestDatabase.logger
        let (_, platform) = try await dependencies.keys.create(
            organizationID: nil, name: "platform", role: .platform, expiresAt: nil, actor: .commandLine, logger: log)
        let acme = try await dependencies.organizations.create(slug: "acme", name: "Acme", actor: .commandLine, logger: log)
        let globex = try await dependencies.organizations.create(
            slug: "globex", name: "Globex", actor: .commandLine, logger: log)
        func key(_ organization: Organization, _ role: APIKeyRole) async throws -> String {
            try await dependencies.keys.create(
                organizationID: organization.id, name: "\(organization.slug)-\(role.rawValue)", role: role,
                expiresAt: nil, actor: .commandLine, logger: log
            ).token.value
        }
        return AppHarness(
            postgres: postgres, dependencies: dependencies, keyring: keyring, platformKey: platform.value, acme: acme, globex: globex,
            acmeAdmin: try await key(acme, .admin), acmeService: try await key(acme, .service),
            globexAdmin: try await key(globex, .admin))
    }

    /// Runs `body` with a harness and a router test client; `logger` receives the app's logs.
    static func run(
        logger: Logger? = nil, mode: TestingSetup = .router, configuration: AppConfiguration = AppConfiguration(),
        _ body: @Sendable (AppHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestDatabase.withMigratedDatabase { postgres, _ in
            let harness = try await make(postgres: postgres, configuration: configuration)
            let dependencies = harness.dependencies
            var quiet = Logger(label: "app")
            quiet.logLevel = .critical
            let app = Application(router: buildRouter(dependencies), logger: logger ?? quiet)
            try await app.test(mode) { client in try await body(harness, client) }
        }
    }
}

typealias JSONBody = [String: JSONValueLiteral]

/// A small JSON literal for request bodies in tests.
enum JSONValueLiteral: Encodable, Sendable {
    case string(String), number(Double), bool(Bool), null, array([JSONValueLiteral]), object([String: JSONValueLiteral])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension TestClientProtocol {
    /// Sends a request with an API key and an optional JSON body (or raw body).
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, key: String? = nil, json: JSONBody? = nil, raw: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(data: try JSONEncoder().encode(json))
        } else if let raw {
            headers[.contentType] = headers[.contentType] ?? "application/json"
            body = ByteBuffer(string: raw)
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }
}

extension TestResponse {
    /// The body as a JSON object.
    func object() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(buffer: body))
        return try #require(value as? [String: Any])
    }

    var text: String { String(buffer: body) }

    /// The `error.code` of an error body.
    func errorCode() throws -> String? {
        (try object()["error"] as? [String: Any])?["code"] as? String
    }
}
