import Foundation
import HummingbirdTesting
import Testing

@testable import App

@Suite struct AuditRoutesTests {
    @Test func everyChangeAppearsNewestFirstWithWhoAndWhatButNoSecret() async throws {
        try await AppHarness.run { harness, client in
            let path = "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION"
            try await client.send(.put, path, key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            try await client.send(
                .post, "\(path)/rotate", key: harness.acmeAdmin,
                json: ["auth_token": .string(AppHarness.Secrets.rotatedAuthToken)])
            let created = try await client.send(
                .post, "/api/v1/organizations/acme/api-keys", key: harness.acmeAdmin,
                json: ["name": .string("ci"), "role": .string("service")]
            ).object()
            try await client.send(
                .delete, "/api/v1/organizations/acme/api-keys/\(created["id"] as? String ?? "")", key: harness.acmeAdmin)
            try await client.send(.delete, path, key: harness.acmeAdmin, headers: [.ifMatch: "\"2\""])

            let response = try await client.send(.get, "/api/v1/organizations/acme/audit-events?limit=3", key: harness.acmeAdmin)
            #expect(response.status == .ok)
            let page = try response.object()
            let events = try #require(page["events"] as? [[String: Any]])
            #expect(events.map { $0["action"] as? String } == ["configuration.delete", "api_key.revoke", "api_key.create"])
            #expect(events.allSatisfy { $0["actor_name"] as? String == "acme-admin" && $0["actor_key_id"] is String })
            let cursor = try #require(page["next_cursor"] as? String)
            let rest = try await client.send(
                .get, "/api/v1/organizations/acme/audit-events?cursor=\(cursor)", key: harness.acmeAdmin)
            let older = try #require(try rest.object()["events"] as? [[String: Any]])
            #expect(older.map { $0["action"] as? String } == ["configuration.rotate", "configuration.create", "api_key.create", "api_key.create", "organization.create"])
            for text in [response.text, rest.text] {
                #expect(!text.contains(AppHarness.Secrets.twilioAuthToken))
                #expect(!text.contains(AppHarness.Secrets.rotatedAuthToken))
                #expect(!text.contains("****"))
            }
        }
    }

    @Test func aServiceKeyCannotReadTheAuditLog() async throws {
        try await AppHarness.run { harness, client in
            do {
                let response = try await client.send(.get, "/api/v1/organizations/acme/audit-events", key: harness.acmeService)
                #expect(response.status == .forbidden)
            }
        }
    }
}
