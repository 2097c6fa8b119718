import Foundation
import HummingbirdTesting
import Testing

@testable import App

@Suite struct APIKeyRoutesTests {
    @Test func anAdminCreatesAKeyThatIsShownOnceAndListedWithoutSecrets() async throws {
        try await AppHarness.run { harness, client in
            let created = try await client.send(
                .post, "/api/v1/organizations/acme/api-keys", key: harness.acmeAdmin,
                json: ["name": .string("backend"), "role": .string("service"), "expires_at": .string("2099-01-01T00:00:00Z")])
            #expect(created.status == .created)
            let body = try created.object()
            let key = try #require(body["key"] as? String)
            let secret = String(key.split(separator: "_")[2])
            #expect(body["role"] as? String == "service")
            let list = try await client.send(.get, "/api/v1/organizations/acme/api-keys", key: harness.acmeAdmin)
            #expect(list.status == .ok)
            #expect(!list.text.contains(secret))
            #expect(!list.text.contains("\"key\""))
            #expect(!list.text.contains("hash"))
            #expect((try list.object()["api_keys"] as? [Any])?.count == 3)
        }
    }

    @Test(arguments: [
        #"{"name":"x","role":"platform"}"#, #"{"name":"x","role":"root"}"#, #"{"name":"","role":"admin"}"#,
        #"{"name":"x","role":"admin","expires_at":"2001-01-01T00:00:00Z"}"#,
        #"{"name":"x","role":"admin","expires_at":"tomorrow"}"#, #"{"name":"x","role":"admin","scopes":[]}"#,
    ])
    func badKeyRequestsAre400AndCreateNothing(_ body: String) async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/organizations/acme/api-keys", key: harness.acmeAdmin, raw: body)
            #expect(response.status == .badRequest)
            let list = try await client.send(.get, "/api/v1/organizations/acme/api-keys", key: harness.acmeAdmin)
            #expect((try list.object()["api_keys"] as? [Any])?.count == 2)
        }
    }

    @Test func aServiceKeyCannotManageKeys() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/organizations/acme/api-keys", key: harness.acmeService,
                json: ["name": .string("escalate"), "role": .string("admin")])
            #expect(response.status == .forbidden)
            do {
                let response = try await client.send(.get, "/api/v1/organizations/acme/api-keys", key: harness.acmeService)
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func revokingAnUnknownKeyIs404() async throws {
        try await AppHarness.run { harness, client in
            do {
                let response = try await client.send(.delete, "/api/v1/organizations/acme/api-keys/\(UUID())", key: harness.acmeAdmin)
                #expect(response.status == .notFound)
            }
            do {
                let response = try await client.send(.delete, "/api/v1/organizations/acme/api-keys/not-a-uuid", key: harness.acmeAdmin)
                #expect(response.status == .notFound)
            }
        }
    }
}
