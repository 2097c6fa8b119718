import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

@Suite struct TenantIsolationTests {
    /// Walks every registered route that names an organization with Globex's keys against Acme,
    /// by id and by slug: each is refused with 403 or 404, shows none of Acme's data, changes nothing.
    @Test func everyOrganizationRouteRefusesAnotherTenantsKeys() async throws {
        try await AppHarness.run { harness, client in
            let path = "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION"
            try await client.send(.put, path, key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            let keys = try await harness.dependencies.keys.list(organizationID: harness.acme.id, logger: TestDatabase.logger)
            let acmeKeyID = try #require(keys.first?.id)
            let before = try await snapshot(harness)

            let routes = buildRouter(harness.dependencies).routes.filter { $0.path.description.contains("{org}") }
            #expect(routes.count >= 10)
            var probes = 0
            for route in routes {
                for reference in ["acme", harness.acme.id.uuidString.lowercased()] {
                    let uri = route.path.description
                        .replacingOccurrences(of: "{org}", with: reference)
                        .replacingOccurrences(of: "{key}", with: "TWILIO_CONFIGURATION")
                        .replacingOccurrences(of: "{id}", with: acmeKeyID.uuidString)
                    for key in [harness.globexAdmin] + [try await serviceKey(harness)] {
                        let json: JSONBody? =
                            route.method == .get || route.method == .delete
                            ? nil : ["name": .string("x"), "role": .string("admin"), "auth_token": .string("y")]
                        let response = try await client.send(route.method, uri, key: key, json: json)
                        #expect(
                            response.status == .notFound || response.status == .forbidden,
                            "\(route.method) \(uri) answered \(response.status)")
                        for secretOrData in [
                            AppHarness.Secrets.twilioAccountSID, "****", harness.acme.name, keys[0].prefix, "acme-admin",
                        ] {
                            #expect(!response.text.contains(secretOrData), "\(route.method) \(uri) leaked data")
                        }
                        probes += 1
                    }
                }
            }
            #expect(probes == routes.count * 4)
            #expect(try await snapshot(harness) == before)
        }
    }

    func serviceKey(_ harness: AppHarness) async throws -> String {
        try await harness.dependencies.keys.create(
            organizationID: harness.globex.id, name: "globex-service", role: .service, expiresAt: nil,
            actor: .commandLine, logger: TestDatabase.logger
        ).token.value
    }

    /// Everything of Acme a foreign request could change.
    func snapshot(_ harness: AppHarness) async throws -> String {
        let rows = try await harness.postgres.query(
            """
            SELECT (SELECT string_agg(key || ':' || version, ',') FROM organization_configuration
                    WHERE organization_id = \(harness.acme.id)),
                   (SELECT string_agg(id::text || ':' || coalesce(revoked_at::text, '-'), ',' ORDER BY id) FROM api_keys
                    WHERE organization_id = \(harness.acme.id)),
                   (SELECT count(*)::text FROM audit_events WHERE organization_id = \(harness.acme.id))
            """, logger: TestDatabase.logger)
        var result = ""
        for try await (configuration, keys, audit) in rows.decode((String?, String?, String).self) {
            result = "\(configuration ?? "")|\(keys ?? "")|\(audit)"
        }
        return result
    }

    @Test func aPlatformKeyMayActOnAnyOrganization() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(.get, "/api/v1/organizations/globex/api-keys", key: harness.platformKey)
            #expect(response.status == .ok)
        }
    }
}

