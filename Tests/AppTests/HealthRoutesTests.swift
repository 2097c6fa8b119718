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

    @Test func readinessIs503WhenTheDatabaseIsUnreachable() async throws {
        try await TestDatabase.withClient(Self.unreachableDatabase()) { postgres in
            let dependencies = try AppDependencies.forTesting(postgres: postgres)
            let app = Application(router: buildRouter(dependencies))
            try await app.test(.router) { client in
                let start = ContinuousClock.now
                let response = try await client.send(.get, "/readyz")
                #expect(response.status == .serviceUnavailable)
                #expect(try response.errorCode() == "database_unavailable")
                #expect(ContinuousClock.now - start < .seconds(10), "readiness must answer, not hang")
            }
        }
    }

    @Test func apiAndWebhookRoutesAnswer503RatherThanHangWhenTheDatabaseIsUnreachable() async throws {
        try await TestDatabase.withClient(Self.unreachableDatabase()) { postgres in
            let dependencies = try AppDependencies.forTesting(postgres: postgres)
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
                    #expect(ContinuousClock.now - start < .seconds(10), "\(path) must answer, not hang")
                }
            }
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
