import Foundation
import HummingbirdTesting
import Testing

@testable import App

@Suite struct OrganizationRoutesTests {
    @Test func aPlatformKeyCreatesAnOrganization() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/organizations", key: harness.platformKey,
                json: ["slug": .string("initech"), "name": .string("Initech")])
            #expect(response.status == .created)
            let body = try response.object()
            #expect(body["slug"] as? String == "initech")
            let id = try #require(body["id"] as? String)
            let fetched = try await client.send(.get, "/api/v1/organizations/\(id)", key: harness.platformKey)
            #expect(try fetched.object()["name"] as? String == "Initech")
        }
    }

    @Test func onlyAPlatformKeyCreatesOrListsOrganizations() async throws {
        try await AppHarness.run { harness, client in
            let create = try await client.send(
                .post, "/api/v1/organizations", key: harness.acmeAdmin,
                json: ["slug": .string("evil"), "name": .string("Evil")])
            #expect(create.status == .forbidden)
            do {
                let response = try await client.send(.get, "/api/v1/organizations", key: harness.acmeAdmin)
                #expect(response.status == .forbidden)
            }
            #expect(try await harness.dependencies.organizations.find("evil", logger: .init(label: "t")) == nil)
        }
    }

    @Test func aTakenSlugIsAConflict() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/organizations", key: harness.platformKey,
                json: ["slug": .string("acme"), "name": .string("Another")])
            #expect(response.status == .conflict)
            #expect(try response.errorCode() == "duplicate")
        }
    }

    @Test(arguments: [
        (#"{"slug":"ok-slug","name":"X","extra":1}"#, "unknown_field"),
        (#"{"slug":42,"name":"X"}"#, "invalid_field"),
        (#"{"name":"X"}"#, "invalid_field"),
        (#"{"slug":"Bad Slug","name":"X"}"#, "invalid_field"),
        (#"{"slug":"ok-slug","name":""}"#, "invalid_field"),
        (#"{"slug": "ok-slug", "name": "X""#, "malformed_json"),
        (#"["slug"]"#, "malformed_json"),
    ])
    func badBodiesAreRefusedAndCreateNothing(_ body: String, _ code: String) async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(.post, "/api/v1/organizations", key: harness.platformKey, raw: body)
            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == code)
            let list = try await client.send(.get, "/api/v1/organizations", key: harness.platformKey)
            #expect((try list.object()["organizations"] as? [Any])?.count == 2)
        }
    }

    @Test func aNonJSONContentTypeIsRefused() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/organizations", key: harness.platformKey, raw: "slug=x",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test func listingIsPaginatedBySlug() async throws {
        try await AppHarness.run { harness, client in
            let first = try await client.send(.get, "/api/v1/organizations?limit=1", key: harness.platformKey).object()
            #expect((first["organizations"] as? [[String: Any]])?.first?["slug"] as? String == "acme")
            let cursor = try #require(first["next_cursor"] as? String)
            let second = try await client.send(
                .get, "/api/v1/organizations?limit=1&cursor=\(cursor)", key: harness.platformKey
            ).object()
            #expect((second["organizations"] as? [[String: Any]])?.first?["slug"] as? String == "globex")
            #expect(second["next_cursor"] is NSNull || second["next_cursor"] == nil)
            let bad = try await client.send(.get, "/api/v1/organizations?limit=0", key: harness.platformKey)
            #expect(bad.status == .badRequest)
        }
    }

    @Test func anOrganizationKeyReadsItsOwnOrganizationByIdOrSlug() async throws {
        try await AppHarness.run { harness, client in
            do {
                let response = try await client.send(.get, "/api/v1/organizations/acme", key: harness.acmeService)
                #expect(response.status == .ok)
            }
            let byID = try await client.send(.get, "/api/v1/organizations/\(harness.acme.id)", key: harness.acmeService)
            #expect(try byID.object()["slug"] as? String == "acme")
        }
    }
}
