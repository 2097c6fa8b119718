import Crypto
import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

@Suite struct APIKeyStoreTests {
    let logger = StoreFixtures.logger

    @Test func authenticatesAFreshKeyAndStoresOnlyTheHashOfItsSecret() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = APIKeyStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let (key, token) = try await store.create(
                organizationID: organization.id, name: "backend", role: .service, expiresAt: nil, actor: .commandLine,
                logger: logger)
            #expect(token.value.hasPrefix("sb_\(key.prefix)_"))
            let result = try await store.authenticate(token.value, logger: logger)
            let authenticated = try result.get()
            #expect(authenticated.id == key.id)
            #expect(authenticated.role == .service)
            #expect(authenticated.organizationSlug == organization.slug)

            let secret = String(token.value.split(separator: "_")[2])
            let rows = try await client.query("SELECT row_to_json(k)::text, secret_hash FROM api_keys k", logger: logger)
            for try await (text, hash) in rows.decode((String, Data).self) {
                #expect(!text.contains(secret))
                #expect(hash == Data(SHA256.hash(data: Data(secret.utf8))))
            }
        }
    }

    @Test func refusesAWrongSecretWithTheRightPrefix() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = APIKeyStore(client: client)
            let (key, _) = try await store.create(
                organizationID: nil, name: "ops", role: .platform, expiresAt: nil, actor: .commandLine, logger: logger)
            let forged = "sb_\(key.prefix)_" + String(repeating: "A", count: 40)
            #expect(try await store.authenticate(forged, logger: logger) == .failure(.invalid))
            #expect(try await store.authenticate("sb_short_key", logger: logger) == .failure(.invalid))
        }
    }

    @Test func refusesRevokedAndExpiredKeys() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = APIKeyStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let (revoked, revokedToken) = try await store.create(
                organizationID: organization.id, name: "a", role: .admin, expiresAt: nil, actor: .commandLine,
                logger: logger)
            _ = try await store.revoke(organizationID: organization.id, keyID: revoked.id, actor: .commandLine, logger: logger)
            #expect(try await store.authenticate(revokedToken.value, logger: logger) == .failure(.revoked))

            let (_, expiringToken) = try await store.create(
                organizationID: organization.id, name: "b", role: .admin, expiresAt: Date().addingTimeInterval(60),
                actor: .commandLine, logger: logger)
            #expect(try await store.authenticate(expiringToken.value, logger: logger).get().name == "b")
            #expect(
                try await store.authenticate(expiringToken.value, now: Date().addingTimeInterval(120), logger: logger)
                    == .failure(.expired))
        }
    }

    @Test func revokingAnotherOrganizationsKeyIsNotFoundAndChangesNothing() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = APIKeyStore(client: client)
            let mine = try await StoreFixtures.organization(client)
            let theirs = try await StoreFixtures.organization(client)
            let (key, token) = try await store.create(
                organizationID: theirs.id, name: "x", role: .admin, expiresAt: nil, actor: .commandLine, logger: logger)
            await #expect(throws: PersistenceError.notFound("API key")) {
                _ = try await store.revoke(organizationID: mine.id, keyID: key.id, actor: .commandLine, logger: logger)
            }
            #expect(try await store.authenticate(token.value, logger: logger).get().id == key.id)
        }
    }
}
