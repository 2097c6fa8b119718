import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@Suite struct ConfigurationStoreTests {
    let logger = StoreFixtures.logger

    @Test func storesNoPlaintextSecretInAnyColumn() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring()))
            let organization = try await StoreFixtures.organization(client)
            _ = try await store.put(
                organizationID: organization.id, key: "K", ifMatch: nil, actor: .commandLine, logger: logger
            ) { _ in StoreFixtures.write() }
            _ = try await store.rotate(
                organizationID: organization.id, key: "K", ifMatch: nil, grace: 3600, actor: .commandLine,
                logger: logger
            ) { _ in StoreFixtures.write("feedfacefeedfacefeedfacefeedface") }
            // Every column of the row as text, and the sealed bytes as raw bytes.
            let rows = try await client.query(
                "SELECT row_to_json(c)::text, sealed, previous_sealed FROM organization_configuration c", logger: logger)
            var seen = 0
            for try await (text, sealed, previous) in rows.decode((String, Data, Data?).self) {
                seen += 1
                for secret in [StoreFixtures.secret, "feedfacefeedfacefeedfacefeedface"] {
                    #expect(!text.contains(secret))
                    #expect(sealed.range(of: Data(secret.utf8)) == nil)
                    #expect((previous ?? Data()).range(of: Data(secret.utf8)) == nil)
                    #expect(previous != nil)
                }
            }
            #expect(seen == 1)
        }
    }

    @Test func aSealedValueCopiedToAnotherOrganizationFailsToOpen() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring()))
            let victim = try await StoreFixtures.organization(client)
            let attacker = try await StoreFixtures.organization(client)
            for organization in [victim, attacker] {
                _ = try await store.put(
                    organizationID: organization.id, key: "K", ifMatch: nil, actor: .commandLine, logger: logger
                ) { _ in StoreFixtures.write() }
            }
            try await client.query(
                """
                UPDATE organization_configuration SET sealed = (
                    SELECT sealed FROM organization_configuration WHERE organization_id = \(victim.id))
                WHERE organization_id = \(attacker.id)
                """, logger: logger)
            await #expect(throws: SealingError.self) {
                _ = try await store.open(organizationID: attacker.id, key: "K", logger: logger)
            }
            #expect(try await store.open(organizationID: victim.id, key: "K", logger: logger) != nil)
        }
    }

    @Test func concurrentWritesWithTheSameIfMatchLetExactlyOneWin() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring()))
            let organization = try await StoreFixtures.organization(client)
            let created = try await store.put(
                organizationID: organization.id, key: "K", ifMatch: nil, actor: .commandLine, logger: logger
            ) { _ in StoreFixtures.write() }
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await store.put(
                                organizationID: organization.id, key: "K", ifMatch: created.version,
                                actor: .commandLine, logger: logger
                            ) { _ in StoreFixtures.write("writer\(index)") }
                            return true
                        } catch PersistenceError.versionMismatch {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await store.get(organizationID: organization.id, key: "K", logger: logger)?.version == 2)
        }
    }

    @Test func aStaleOrMissingVersionIsRefusedAndChangesNothing() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring()))
            let organization = try await StoreFixtures.organization(client)
            await #expect(throws: PersistenceError.versionMismatch(expected: 1, actual: nil)) {
                _ = try await store.put(
                    organizationID: organization.id, key: "K", ifMatch: 1, actor: .commandLine, logger: logger
                ) { _ in StoreFixtures.write() }
            }
            _ = try await store.put(
                organizationID: organization.id, key: "K", ifMatch: nil, actor: .commandLine, logger: logger
            ) { _ in StoreFixtures.write() }
            await #expect(throws: PersistenceError.versionMismatch(expected: 7, actual: 1)) {
                try await store.delete(organizationID: organization.id, key: "K", ifMatch: 7, actor: .commandLine, logger: logger)
            }
            #expect(try await store.get(organizationID: organization.id, key: "K", logger: logger)?.version == 1)
        }
    }

    @Test func rotationKeepsThePreviousDocumentOnlyDuringItsGraceWindow() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring()))
            let organization = try await StoreFixtures.organization(client)
            _ = try await store.put(
                organizationID: organization.id, key: "K", ifMatch: nil, actor: .commandLine, logger: logger
            ) { _ in StoreFixtures.write("old-secret") }
            let rotated = try await store.rotate(
                organizationID: organization.id, key: "K", ifMatch: 1, grace: 3600, actor: .commandLine, logger: logger
            ) { current in
                #expect(String(decoding: current, as: UTF8.self).contains("old-secret"))
                return StoreFixtures.write("new-secret")
            }
            #expect(rotated.version == 2)
            let validUntil = try #require(rotated.previousValidUntil)
            #expect(abs(validUntil.timeIntervalSinceNow - 3600) < 60)
            let opened = try #require(try await store.open(organizationID: organization.id, key: "K", logger: logger))
            #expect(String(decoding: opened.document, as: UTF8.self).contains("new-secret"))
            #expect(String(decoding: try #require(opened.previousDocument), as: UTF8.self).contains("old-secret"))

            // The window ends: the previous document is neither returned nor kept.
            try await client.query(
                "UPDATE organization_configuration SET previous_valid_until = now() - interval '1 second'", logger: logger)
            let expired = try #require(try await store.open(organizationID: organization.id, key: "K", logger: logger))
            #expect(expired.previousDocument == nil)
            #expect(expired.stored.previousValidUntil == nil)
            #expect(try await store.purgeExpiredPreviousSecrets(logger: logger) == 1)
            let rows = try await client.query(
                "SELECT count(*) FROM organization_configuration WHERE previous_sealed IS NOT NULL", logger: logger)
            for try await count in rows.decode(Int.self) { #expect(count == 0) }
        }
    }

    @Test func rotationWithZeroGraceKeepsNoPreviousDocument() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring()))
            let organization = try await StoreFixtures.organization(client)
            _ = try await store.put(
                organizationID: organization.id, key: "K", ifMatch: nil, actor: .commandLine, logger: logger
            ) { _ in StoreFixtures.write("old-secret") }
            let rotated = try await store.rotate(
                organizationID: organization.id, key: "K", ifMatch: nil, grace: 0, actor: .commandLine, logger: logger
            ) { _ in StoreFixtures.write("new-secret") }
            #expect(rotated.previousValidUntil == nil)
            #expect(try await store.open(organizationID: organization.id, key: "K", logger: logger)?.previousDocument == nil)
        }
    }

    @Test func everyChangeIsAuditedWithoutItsDocument() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring()))
            let organization = try await StoreFixtures.organization(client)
            let actor = Actor(keyID: UUID(), name: "ops")
            _ = try await store.put(organizationID: organization.id, key: "K", ifMatch: nil, actor: actor, logger: logger) { _ in
                StoreFixtures.write()
            }
            _ = try await store.rotate(
                organizationID: organization.id, key: "K", ifMatch: nil, grace: 60, actor: actor, logger: logger
            ) { _ in StoreFixtures.write("second-secret-value") }
            try await store.delete(organizationID: organization.id, key: "K", ifMatch: nil, actor: actor, logger: logger)
            let events = try await AuditStore(client: client).list(
                organizationID: organization.id, before: nil, limit: 10, logger: logger)
            #expect(
                events.map(\.action) == [
                    "configuration.delete", "configuration.rotate", "configuration.create", "organization.create",
                ])
            #expect(events.prefix(3).allSatisfy { $0.actorKeyID == actor.keyID && $0.actorName == "ops" && $0.target == "K" })
            let rows = try await client.query("SELECT string_agg(details::text, ' ') FROM audit_events", logger: logger)
            for try await text in rows.decode(String.self) {
                #expect(!text.contains(StoreFixtures.secret))
                #expect(!text.contains("second-secret-value"))
                #expect(!text.contains("****"))
            }
        }
    }
}
