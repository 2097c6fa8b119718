import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@Suite struct MasterKeyRotationTests {
    let logger = StoreFixtures.logger

    /// Stores `count` documents (one per organization) under `oldKey`, one of them mid-rotation.
    func seed(_ client: PostgresClient, under oldKey: MasterKeyring.Key, count: Int) async throws -> [UUID] {
        let store = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try MasterKeyring(keys: [oldKey])))
        var organizations: [UUID] = []
        for index in 0..<count {
            let organization = try await StoreFixtures.organization(client)
            _ = try await store.put(
                organizationID: organization.id, key: "K", ifMatch: nil, actor: .commandLine, logger: logger
            ) { _ in StoreFixtures.write("secret-\(index)") }
            organizations.append(organization.id)
        }
        _ = try await store.rotate(
            organizationID: organizations[0], key: "K", ifMatch: nil, grace: 3600, actor: .commandLine, logger: logger
        ) { _ in StoreFixtures.write("secret-0-rotated") }
        return organizations
    }

    func keyIDs(_ client: PostgresClient) async throws -> Set<String> {
        let rows = try await client.query(
            "SELECT key_id FROM organization_configuration UNION SELECT previous_key_id FROM organization_configuration WHERE previous_key_id IS NOT NULL",
            logger: logger)
        return try await rows.decode(String.self).reduce(into: Set()) { $0.insert($1) }
    }

    @Test func movesEveryRowToTheActiveKeyAndTheNewKeyAloneOpensThemAfter() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let old = MasterKeyring.generateKey(id: "old")
            let new = MasterKeyring.generateKey(id: "new")
            let organizations = try await seed(client, under: old, count: 5)
            let report = try await MasterKeyRotation(
                client: client, sealer: SecretSealer(keyring: try MasterKeyring(keys: [new, old]))
            ).run(batchSize: 2, logger: logger)
            #expect(report.moved == 5)
            #expect(report.previousMoved == 1)
            #expect(try await keyIDs(client) == ["new"])
            let onlyNew = ConfigurationStore(client: client, sealer: SecretSealer(keyring: try MasterKeyring(keys: [new])))
            for (index, organization) in organizations.enumerated() {
                let opened = try #require(try await onlyNew.open(organizationID: organization, key: "K", logger: logger))
                let expected = index == 0 ? "secret-0-rotated" : "secret-\(index)"
                #expect(String(decoding: opened.document, as: UTF8.self).contains(expected))
                #expect((opened.previousDocument != nil) == (index == 0))
                #expect(opened.stored.version == (index == 0 ? 2 : 1))
            }
        }
    }

    @Test func anInterruptedRotationResumesWhereItStopped() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let old = MasterKeyring.generateKey(id: "old")
            let new = MasterKeyring.generateKey(id: "new")
            _ = try await seed(client, under: old, count: 5)
            let rotation = MasterKeyRotation(
                client: client, sealer: SecretSealer(keyring: try MasterKeyring(keys: [new, old])))
            let first = try await rotation.run(batchSize: 10, maxRows: 2, logger: logger)
            #expect(first.moved == 2)
            #expect(try await keyIDs(client) == ["new", "old"])
            let second = try await rotation.run(batchSize: 10, logger: logger)
            #expect(second.moved == 3)
            #expect(try await keyIDs(client) == ["new"])
            let third = try await rotation.run(logger: logger)
            #expect(third == MasterKeyRotation.Report())
        }
    }

    @Test func aRowUnderAnUnknownKeyStopsTheRunWithTheKeysName() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            _ = try await seed(client, under: MasterKeyring.generateKey(id: "lost"), count: 1)
            let rotation = MasterKeyRotation(client: client, sealer: SecretSealer(keyring: try TestKeys.keyring("new")))
            let error = await #expect(throws: SealingError.self) { try await rotation.run(logger: logger) }
            #expect(error == .unknownKeyID("lost"))
            #expect(try await keyIDs(client) == ["lost"])
        }
    }
}
