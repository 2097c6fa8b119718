import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import App

@Suite struct HealthRoutesTests {
    /// A client configuration for a port nothing listens on: the database is "down".
    static func unreachableDatabase() throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: "127.0.0.1", port: 1, username: try TestDatabase.maintenanceConfiguration().username, password: nil,
            database: "none", tls: .disable)
        configuration.options.connectTimeout = .milliseconds(200)
        return configuration
    }

    @Test func healthAndReadinessAnswerWhenTheDatabaseIsUp() async throws {
        try await AppHarness.run { _, client in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.headers[.requestID]?.isEmpty == false)
            do {
                let response = try await client.send(.get, "/readyz")
                #expect(response.status == .ok)
            }
        }
    }

    /// The production graph on a client of the closed port, its reachability checked against the same port.
    static func dependenciesOnAClosedPort(_ postgres: PostgresClient) throws -> AppDependencies {
        var configuration = AppConfiguration()
        configuration.database = try unreachableDatabase()
        return try AppDependencies.forTesting(postgres: postgres, configuration: configuration)
    }

    @Test func readinessIs503WhenTheDatabaseIsUnreachable() async throws {
        try await TestDatabase.withClient(Self.unreachableDatabase()) { postgres in
            let dependencies = try Self.dependenciesOnAClosedPort(postgres)
            let app = Application(router: buildRouter(dependencies))
            try await app.test(.router) { client in
                let start = ContinuousClock.now
                let response = try await client.send(.get, "/readyz")
                #expect(response.status == .serviceUnavailable)
                #expect(try response.errorCode() == "database_unavailable")
                #expect(ContinuousClock.now - start < .seconds(30), "readiness must answer, not hang")
                #expect(dependencies.database.isUnavailable, "a closed port flips the state")
            }
        }
    }

    @Test func apiAndWebhookRoutesAnswer503RatherThanHangWhenTheDatabaseIsUnreachable() async throws {
        try await TestDatabase.withClient(Self.unreachableDatabase()) { postgres in
            let dependencies = try Self.dependenciesOnAClosedPort(postgres)
            let app = Application(router: buildRouter(dependencies))
            try await app.test(.router) { client in
                for (method, path) in [
                    (HTTPRequest.Method.get, "/api/v1/organizations/acme"),
                    (.post, "/api/v1/telephony/webhooks/twilio/acme/status"),
                ] {
                    let start = ContinuousClock.now
                    let response = try await client.send(
                        method, path, key: "sb_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", raw: method == .post ? "a=b" : nil)
                    #expect(response.status == .serviceUnavailable, "\(path)")
                    #expect(try response.errorCode() == "database_unavailable")
                    #expect(ContinuousClock.now - start < .seconds(30), "\(path) must answer, not hang")
                }
            }
        }
    }

    /// A pool whose every connection runs a long query is busy, not down: other requests answer
    /// 503 `server_busy` with `Retry-After` (each on its own), readiness stays 200, the state never
    /// flips to unavailable, and requests after the load answer normally at once.
    @Test func aSaturatedPoolAnswersServerBusyForThatRequestOnlyAndStaysReady() async throws {
        try await AppHarness.run { harness, client in
            // TestDatabase's pools hold 4 connections: occupy all of them.
            let sleepers = (0..<4).map { _ in
                Task { try await harness.postgres.query("SELECT pg_sleep(7)", logger: TestDatabase.logger) }
            }
            try await Task.sleep(for: .milliseconds(800))
            let busy = try await client.send(.get, "/api/v1/organizations/acme", key: harness.acmeAdmin)
            #expect(busy.status == .serviceUnavailable)
            #expect(try busy.errorCode() == "server_busy")
            #expect(busy.headers[.retryAfter] == "1")
            #expect(!harness.dependencies.database.isUnavailable, "load alone must not mark the database unavailable")
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok, "a busy pool is still a reachable database")
            for sleeper in sleepers { _ = try await sleeper.value }
            let start = ContinuousClock.now
            let after = try await client.send(.get, "/api/v1/organizations/acme", key: harness.acmeAdmin)
            #expect(after.status == .ok)
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(harness.dependencies.database.currentLimit == harness.dependencies.database.deadline)
        }
    }

    @Test func unknownRoutesAnswerWithTheJSONErrorBody() async throws {
        try await AppHarness.run { _, client in
            let response = try await client.send(.get, "/nope")
            #expect(response.status == .notFound)
            #expect(try response.errorCode() == "not_found")
        }
    }

    @Test func aSaneClientRequestIDIsEchoedAndAnUnsafeOneReplaced() async throws {
        try await AppHarness.run { _, client in
            let kept = try await client.send(.get, "/healthz", headers: [.requestID: "abc-123"])
            #expect(kept.headers[.requestID] == "abc-123")
            let replaced = try await client.send(.get, "/healthz", headers: [.requestID: "bad id\twith spaces"])
            #expect(replaced.headers[.requestID] != "bad id\twith spaces")
        }
    }
}
