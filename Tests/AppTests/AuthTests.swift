import Foundation
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

@Suite struct AuthTests {
    @Test func aRequestWithoutAKeyIs401() async throws {
        try await AppHarness.run { _, client in
            let response = try await client.send(.get, "/api/v1/organizations/acme")
            #expect(response.status == .unauthorized)
            #expect(try response.errorCode() == "missing_api_key")
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test(arguments: ["sb_nope", "Basic abc", "sb_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
    func aMalformedOrUnknownKeyIs401(_ key: String) async throws {
        try await AppHarness.run { _, client in
            let response = try await client.send(.get, "/api/v1/organizations/acme", key: key)
            #expect(response.status == .unauthorized)
        }
    }

    @Test func theXAPIKeyHeaderIsAccepted() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(.get, "/api/v1/organizations/acme", headers: [.apiKey: harness.acmeAdmin])
            #expect(response.status == .ok)
        }
    }

    @Test func aRevokedKeyIsRefusedOnItsNextRequest() async throws {
        try await AppHarness.run { harness, client in
            let created = try await client.send(
                .post, "/api/v1/organizations/acme/api-keys", key: harness.acmeAdmin,
                json: ["name": .string("temp"), "role": .string("service")]
            ).object()
            let key = try #require(created["key"] as? String)
            let id = try #require(created["id"] as? String)
            do {
                let response = try await client.send(.get, "/api/v1/organizations/acme", key: key)
                #expect(response.status == .ok)
            }
            let revoked = try await client.send(.delete, "/api/v1/organizations/acme/api-keys/\(id)", key: harness.acmeAdmin)
            #expect(revoked.status == .ok)
            #expect(try revoked.object()["revoked_at"] is String)
            let refused = try await client.send(.get, "/api/v1/organizations/acme", key: key)
            #expect(refused.status == .unauthorized)
            #expect(refused.text.contains("revoked"))
        }
    }

    @Test func anExpiredKeyIsRefused() async throws {
        try await AppHarness.run { harness, client in
            let (_, token) = try await harness.dependencies.keys.create(
                organizationID: harness.acme.id, name: "old", role: .admin, expiresAt: Date().addingTimeInterval(-1),
                actor: .commandLine, logger: TestDatabase.logger)
            let response = try await client.send(.get, "/api/v1/organizations/acme", key: token.value)
            #expect(response.status == .unauthorized)
            #expect(response.text.contains("expired"))
        }
    }
}
