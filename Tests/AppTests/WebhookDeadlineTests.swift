import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import PostgresNIO
import Providers
import TestSupport
import Testing

@testable import App

/// The webhook's provider resolution and the cold-call webhooks answer within the status
/// webhook's database deadline (503, the provider retries) instead of waiting on a database step
/// for as long as it takes; an unreadable sealed configuration refuses the webhook like a bad
/// signature (403), never a 500 telling an unauthenticated caller about the server's keys.
@Suite struct WebhookDeadlineTests {
    let twilio = TwilioWebhookRoutesTests()

    /// Holds an ACCESS EXCLUSIVE lock on `table` for `seconds` while `body` runs, so every
    /// statement reading it waits (as it would on a stuck database).
    static func withTableLocked<T: Sendable>(
        _ harness: AppHarness, _ table: String, for seconds: Double, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await harness.postgres.withConnection { connection in
            try await connection.query("BEGIN", logger: TestDatabase.logger)
            try await connection.query("LOCK TABLE \(unescaped: table) IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
            let release = Task {
                try await Task.sleep(for: .seconds(seconds))
            }
            let result = try await body()
            _ = try? await release.value
            try await connection.query("COMMIT", logger: TestDatabase.logger)
            return result
        }
    }

    @Test func providerResolutionOfAStatusWebhookIsBoundedByTheDatabaseDeadline() async throws {
        try await AppHarness.run(configuration: TwilioWebhookRoutesTests.configuration) { harness, client in
            _ = try await twilio.prepare(harness, client)
            let (status, elapsed) = try await Self.withTableLocked(harness, "organization_configuration", for: 12) {
                let start = ContinuousClock.now
                let response = try await twilio.post(
                    client, twilio.statusPath, form: twilio.statusForm("ringing", sequence: 1),
                    token: AppHarness.Secrets.twilioAuthToken)
                return (response.status, ContinuousClock.now - start)
            }
            #expect(status == .serviceUnavailable)
            #expect(elapsed < .seconds(9), "the webhook waited \(elapsed) for its provider configuration")
        }
    }

    @Test func theColdCallMarkupWebhookIsBoundedByTheDatabaseDeadline() async throws {
        try await AppHarness.run(configuration: TwilioWebhookRoutesTests.configuration) { harness, client in
            _ = try await twilio.prepare(harness, client)
            // Resolve once, so the provider is cached and only the session lookup waits.
            let warm = try await twilio.post(
                client, twilio.statusPath, form: twilio.statusForm("ringing", sequence: 1), token: AppHarness.Secrets.twilioAuthToken)
            #expect(warm.status == .noContent)
            let token = harness.dependencies.coldCalls.signedToken(
                organizationID: harness.acme.id, conferenceID: UUID(), role: .contact)
            let path = "/api/v1/telephony/webhooks/twilio/acme/cold-call/twiml?token=\(TelephonySettings.escape(token))"
            let form = [("AccountSid", AppHarness.Secrets.twilioAccountSID), ("CallSid", TwilioWebhookRoutesTests.callSID)]
            let (status, elapsed) = try await Self.withTableLocked(harness, "conferences", for: 12) {
                let start = ContinuousClock.now
                let response = try await twilio.post(client, path, form: form, token: AppHarness.Secrets.twilioAuthToken)
                return (response.status, ContinuousClock.now - start)
            }
            #expect(status == .serviceUnavailable)
            #expect(elapsed < .seconds(9), "the cold-call webhook waited \(elapsed) for the database")
        }
    }

    @Test func aConfigurationThisServerCannotOpenRefusesTheWebhookWith403() async throws {
        try await AppHarness.run(configuration: TwilioWebhookRoutesTests.configuration) { harness, client in
            _ = try await twilio.prepare(harness, client)
            // A second instance given other master keys: the stored document is sealed under a key it lacks.
            let stranger = try AppDependencies.forTesting(
                postgres: harness.postgres, configuration: TwilioWebhookRoutesTests.configuration,
                keyring: try TestKeys.keyring("someone-else"))
            let logs = LogCapture()
            try await Application(router: buildRouter(stranger), logger: logs.logger(label: "stranger")).test(.router) { other in
                let response = try await twilio.post(
                    other, twilio.statusPath, form: twilio.statusForm("ringing", sequence: 1),
                    token: AppHarness.Secrets.twilioAuthToken)
                #expect(response.status == .forbidden)
                #expect(try response.errorCode() == "invalid_signature")
                #expect(!response.text.contains("master key"))
            }
            #expect(logs.all.contains { $0.contains("sealed configuration unreadable") })
        }
    }
}
