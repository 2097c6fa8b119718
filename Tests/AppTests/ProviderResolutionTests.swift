import Foundation
import HummingbirdTesting
import Logging
import Persistence
import PostgresNIO
import Providers
import TestSupport
import Testing

@testable import App

/// The factory on the real database: stored → environment → error, the cache surviving a
/// database outage, and invalidation across two instances through LISTEN/NOTIFY.
@Suite struct ProviderResolutionTests {
    let logger = TestDatabase.logger

    func storeTwilio(_ dependencies: AppDependencies, organizationID: UUID, numbers: [String]) async throws {
        _ = try await dependencies.configurations.put(
            organizationID: organizationID, key: "TWILIO_CONFIGURATION", ifMatch: nil, actor: .commandLine, logger: logger
        ) { _ in
            try ConfigurationController.write(
                [
                    "account_sid": .string(AppHarness.Secrets.twilioAccountSID),
                    "auth_token": .string(AppHarness.Secrets.twilioAuthToken),
                    "from_numbers": .array(numbers.map(JSONValue.string)),
                ], schema: .forKey(.twilio), auditDetails: [:])
        }
    }

    @Test func storedThenEnvironmentThenAClearError() async throws {
        var configuration = AppConfiguration()
        configuration.environmentProviders = try EnvironmentProviderConfiguration.load(from: [
            "PLIVO_AUTH_ID": "MAODUZYTQ0Y2FMYJBLOW", "PLIVO_AUTH_TOKEN": "test-only-env-token", "PLIVO_FROM_NUMBER": "+14155550999",
        ])
        configuration.environmentScope = .all
        try await AppHarness.run(configuration: configuration) { harness, _ in
            let factory = harness.dependencies.factory
            #expect(try await factory.provider(for: harness.acme.id).name == .plivo)
            try await storeTwilio(harness.dependencies, organizationID: harness.acme.id, numbers: ["+14155550100"])
            factory.invalidate(organizationID: harness.acme.id)
            #expect(try await factory.provider(for: harness.acme.id).name == .twilio)
            #expect(try await factory.provider(for: harness.acme.id, explicit: .plivo).name == .plivo)
            await #expect(throws: ProviderResolutionError.self) {
                try await factory.provider(for: harness.acme.id, explicit: .telnyx)
            }
        }
    }

    @Test func theEnvironmentServesOnlyTheOrganizationsItIsScopedTo() async throws {
        var configuration = AppConfiguration()
        configuration.environmentProviders = try EnvironmentProviderConfiguration.load(from: [
            "PLIVO_AUTH_ID": "MAODUZYTQ0Y2FMYJBLOW", "PLIVO_AUTH_TOKEN": "test-only-env-token", "PLIVO_FROM_NUMBER": "+14155550999",
        ])
        try await AppHarness.run(configuration: configuration) { harness, _ in
            // Unscoped (the default): no tenant gets the operator's credentials.
            await #expect(throws: ProviderResolutionError.self) { try await harness.dependencies.factory.provider(for: harness.acme.id) }
        }
        try await TestDatabase.withMigratedDatabase { postgres, _ in
            let acme = try await OrganizationStore(client: postgres).create(
                slug: "acme", name: "Acme", actor: .commandLine, logger: logger)
            let globex = try await OrganizationStore(client: postgres).create(
                slug: "globex", name: "Globex", actor: .commandLine, logger: logger)
            configuration.environmentScope = .organizations([acme.id])
            let dependencies = try AppDependencies.forTesting(postgres: postgres, configuration: configuration)
            #expect(try await dependencies.factory.provider(for: acme.id).name == .plivo)
            await #expect(throws: ProviderResolutionError.self) { try await dependencies.factory.provider(for: globex.id) }
        }
    }

    @Test func environmentCredentialsWithoutAScopeStopTheServerFromStarting() throws {
        let error = #expect(throws: AppConfiguration.Invalid.self) {
            try AppConfiguration.load(
                from: ["PLIVO_AUTH_ID": "MAODUZYTQ0Y2FMYJBLOW", "PLIVO_AUTH_TOKEN": "t", "PLIVO_FROM_NUMBER": "+14155550999"],
                needs: [])
        }
        #expect(error?.description.contains("TELEPHONY_ENVIRONMENT_ORGANIZATIONS") == true)
        let scoped = try AppConfiguration.load(
            from: [
                "PLIVO_AUTH_ID": "MAODUZYTQ0Y2FMYJBLOW", "PLIVO_AUTH_TOKEN": "t", "PLIVO_FROM_NUMBER": "+14155550999",
                "TELEPHONY_ENVIRONMENT_ORGANIZATIONS": "*",
            ], needs: [])
        #expect(scoped.environmentScope == .all)
    }

    @Test func aCachedResolutionWorksWithTheDatabaseGone() async throws {
        try await TestDatabase.withMigratedDatabase { postgres, databaseConfiguration in
            let organization = try await OrganizationStore(client: postgres).create(
                slug: "cached", name: "Cached", actor: .commandLine, logger: logger)
            // A second client, the factory's own, which is then shut down: the database is gone for it.
            let factoryClient = PostgresClient(configuration: databaseConfiguration, backgroundLogger: logger)
            let run = Task { await factoryClient.run() }
            let dependencies = try AppDependencies.forTesting(postgres: factoryClient)
            try await storeTwilio(dependencies, organizationID: organization.id, numbers: ["+14155550100"])
            #expect(try await dependencies.factory.provider(for: organization.id).name == .twilio)
            run.cancel()
            _ = await run.value
            #expect(try await dependencies.factory.provider(for: organization.id).name == .twilio)
            dependencies.factory.invalidate(organizationID: organization.id)
            await #expect(throws: (any Error).self) { try await dependencies.factory.provider(for: organization.id) }
        }
    }

    @Test func aWriteOnOneInstanceInvalidatesAnotherWithinASecond() async throws {
        try await TestDatabase.withMigratedDatabase { postgres, _ in
            let organization = try await OrganizationStore(client: postgres).create(
                slug: "shared", name: "Shared", actor: .commandLine, logger: logger)
            let keyring = try TestKeys.keyring()
            let first = try AppDependencies.forTesting(postgres: postgres, keyring: keyring)
            let second = try AppDependencies.forTesting(postgres: postgres, keyring: keyring)
            try await storeTwilio(first, organizationID: organization.id, numbers: ["+14155550100"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                let listening = AsyncStream.makeStream(of: Void.self)
                let feed = ConfigurationChangeFeed(
                    client: postgres, logger: logger, onListening: { listening.continuation.yield() },
                    onChange: { [factory = second.factory] id in factory.invalidate(organizationID: id) })
                group.addTask { try await feed.run() }
                var iterator = listening.stream.makeAsyncIterator()
                _ = await iterator.next()

                #expect(try await second.factory.provider(for: organization.id).configuredNumbers == ["+14155550100"])
                try await storeTwilio(first, organizationID: organization.id, numbers: ["+14155550177"])
                let start = ContinuousClock.now
                var seen: [String] = []
                while ContinuousClock.now - start < .seconds(1) {
                    seen = try await second.factory.provider(for: organization.id).configuredNumbers
                    if seen == ["+14155550177"] { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(seen == ["+14155550177"])
                group.cancelAll()
            }
        }
    }
}
