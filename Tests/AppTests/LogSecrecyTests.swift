import Foundation
import HummingbirdTesting
import Logging
import TestSupport
import Testing

@testable import App

@Suite struct LogSecrecyTests {
    /// Stores, rotates and echoes secrets through the API with trace logging on, then searches
    /// every captured log line for every secret and API key it used.
    @Test func noSecretOrKeyEverReachesALogLine() async throws {
        let capture = LogCapture()
        try await AppHarness.run(logger: capture.logger(label: "app")) { harness, client in
            let path = "/api/v1/organizations/acme/configuration"
            try await client.send(.put, "\(path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            try await client.send(
                .put, "\(path)/PLIVO_CONFIGURATION", key: harness.acmeAdmin,
                json: [
                    "auth_id": .string("MAODUZYTQ0Y2FMYJBLOW"), "auth_token": .string(AppHarness.Secrets.plivoAuthToken),
                    "from_numbers": .array([.string("+14155550100")]),
                ])
            try await client.send(
                .post, "\(path)/TWILIO_CONFIGURATION/rotate", key: harness.acmeAdmin,
                json: ["auth_token": .string(AppHarness.Secrets.rotatedAuthToken)])
            // An invalid document that carries a secret must not echo it into logs either.
            try await client.send(
                .put, "\(path)/PLIVO_CONFIGURATION", key: harness.acmeAdmin,
                json: ["auth_id": .string("!"), "auth_token": .string(AppHarness.Secrets.plivoAuthToken + " x")])
            let created = try await client.send(
                .post, "/api/v1/organizations/acme/api-keys", key: harness.acmeAdmin,
                json: ["name": .string("n"), "role": .string("service")]
            ).object()
            let newKey = try #require(created["key"] as? String)
            try await client.send(.get, "/api/v1/organizations/acme", key: newKey)
            try await client.send(.get, "/api/v1/organizations/acme", key: newKey + "x")
            let keysUsed = [harness.acmeAdmin, harness.platformKey, newKey]
            let lines = capture.all
            #expect(lines.count > 10)
            let secrets =
                [AppHarness.Secrets.twilioAuthToken, AppHarness.Secrets.rotatedAuthToken, AppHarness.Secrets.plivoAuthToken]
                + keysUsed + keysUsed.map { String($0.split(separator: "_")[2]) }
            for secret in secrets {
                #expect(!lines.contains { $0.contains(secret) }, "a log line contains a secret")
            }
        }
    }
}
