import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Persistence
import PostgresNIO
import ProviderSimulators
import TestSupport
import Testing

@testable import App

/// Odoo contact sync and outcome write-back against the Odoo simulator and a real database.
@Suite struct OdooSyncTests {
    /// Test-only Odoo logins; none is real.
    static let apiKey = "test-only-odoo-api-key-1234"
    static let users = [
        OdooSimulator.User(login: "sync@example.com", uid: 2, apiKey: apiKey),
        OdooSimulator.User(login: "portal@example.com", uid: 7, apiKey: "test-only-portal-key", canReadPartners: false),
    ]

    static var configuration: AppConfiguration {
        var configuration = AppConfiguration()
        configuration.outbound.allowsInsecureTargets = true
        return configuration
    }

    /// Runs `body` with a started simulator and the app, the simulator shut down afterwards.
    func withOdoo(
        _ body: @Sendable (OdooSimulator, AppHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        let odoo = OdooSimulator(database: "acme-odoo", users: Self.users)
        try await odoo.start()
        do {
            try await AppHarness.run(configuration: Self.configuration) { harness, client in
                try await body(odoo, harness, client)
            }
        } catch {
            await odoo.shutdown()
            throw error
        }
        await odoo.shutdown()
    }

    func configure(
        _ client: some TestClientProtocol, key: String, odoo: OdooSimulator, login: String = "sync@example.com",
        apiKey: String = OdooSyncTests.apiKey, writeBack: Bool = true, domain: JSONValueLiteral? = nil
    ) async throws -> TestResponse {
        var document: JSONBody = [
            "url": .string(odoo.baseURL), "database": .string("acme-odoo"), "username": .string(login), "api_key": .string(apiKey),
            "write_back": .bool(writeBack),
        ]
        if let domain { document["domain"] = domain }
        return try await client.send(.put, "/api/v1/organizations/acme/configuration/ODOO_CONFIGURATION", key: key, json: document)
    }

    func sync(_ client: some TestClientProtocol, key: String) async throws -> TestResponse {
        try await client.send(.post, "/api/v1/contacts/sync/odoo", key: key)
    }

    func contacts(_ client: some TestClientProtocol, key: String) async throws -> [String: [String: Any]] {
        let list = try await client.send(.get, "/api/v1/contacts?limit=200", key: key).object()
        let items = try #require(list["contacts"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: items.map { ($0["phone"] as? String ?? "", $0) })
    }

    @Test func firstSyncImportsPartnersAndSkipsOneWithoutPhoneWithItsReason() async throws {
        try await withOdoo { odoo, harness, client in
            odoo.addPartners([
                .init(name: "Ada Lovelace", phone: "+44 20 7946 0018", companyName: "Analytical Engines"),
                .init(name: "No Phone", phone: nil, email: "nophone@example.com"),
                .init(name: "Grace Hopper", phone: nil, mobile: "(415) 555-0123"),
            ])
            #expect(try await configure(client, key: harness.acmeAdmin, odoo: odoo).status == .created)
            let response = try await sync(client, key: harness.acmeAdmin)
            #expect(response.status == .ok)
            let run = try response.object()
            #expect(run["status"] as? String == "succeeded")
            #expect(run["created"] as? Int == 2)
            #expect(run["skipped"] as? Int == 1)
            #expect((run["skipped_reasons"] as? [String: Int])?["no phone number"] == 1)
            let problems = try #require(run["problems"] as? [[String: Any]])
            #expect(problems.first?["partner_id"] as? Int == 2)
            let stored = try await contacts(client, key: harness.acmeAdmin)
            #expect(stored["+442079460018"]?["company"] as? String == "Analytical Engines")
            #expect(stored["+14155550123"]?["name"] as? String == "Grace Hopper")
            let history = try await client.send(.get, "/api/v1/contacts/sync/odoo/runs", key: harness.acmeService).object()
            #expect((history["runs"] as? [[String: Any]])?.count == 1)
            let audit = try await client.send(.get, "/api/v1/organizations/acme/audit-events", key: harness.acmeAdmin).text
            #expect(audit.contains("contacts.sync.odoo"))
            #expect(!audit.contains(Self.apiKey))
        }
    }

    @Test func secondSyncPullsOnlyPartnersChangedSinceTheFirst() async throws {
        try await withOdoo { odoo, harness, client in
            let ids = odoo.addPartners((1...30).map { .init(name: "P\($0)", phone: "+1212555\(String(format: "%04d", $0))") })
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo)
            #expect(try await sync(client, key: harness.acmeAdmin).object()["created"] as? Int == 30)
            odoo.updatePartner(ids[4]) { $0.name = "P5 renamed" }
            odoo.updatePartner(ids[9]) { $0.phone = "+1 212 555 9999" }
            let added = odoo.addPartners([.init(name: "New", phone: "+12125558888")])
            odoo.resetServed()
            let second = try await sync(client, key: harness.acmeAdmin).object()
            #expect(odoo.served.partnerIDs.sorted() == [ids[4], ids[9]] + added)
            #expect(second["created"] as? Int == 1)
            #expect(second["updated"] as? Int == 2)
            #expect(second["unchanged"] as? Int == 0)
            let stored = try await contacts(client, key: harness.acmeAdmin)
            #expect(stored.count == 31)
            #expect(stored["+12125550005"]?["name"] as? String == "P5 renamed")
            #expect(stored["+12125559999"]?["name"] as? String == "P10")
            #expect(stored["+12125550010"] == nil)
        }
    }

    @Test func syncLinksAnExistingContactByPhoneInsteadOfDuplicatingIt() async throws {
        try await withOdoo { odoo, harness, client in
            try await client.send(
                .post, "/api/v1/contacts/import", key: harness.acmeAdmin, raw: "name,phone,notes\nAda,+14155550199,keep me",
                headers: [.contentType: "text/csv"])
            let ids = odoo.addPartners([.init(name: "Ada Lovelace", phone: "+1 415 555 0199")])
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo)
            let run = try await sync(client, key: harness.acmeAdmin).object()
            #expect(run["created"] as? Int == 0)
            #expect(run["updated"] as? Int == 1)
            odoo.updatePartner(ids[0]) { $0.phone = "+14155550100" }
            #expect(try await sync(client, key: harness.acmeAdmin).object()["updated"] as? Int == 1)
            let stored = try await contacts(client, key: harness.acmeAdmin)
            #expect(stored.count == 1)
            #expect(stored["+14155550100"]?["notes"] as? String == "keep me")
            #expect(stored["+14155550100"]?["name"] as? String == "Ada Lovelace")
        }
    }

    @Test func badCredentialsAnswer400NamingOdoosRefusalAndTheRunIsRecordedFailed() async throws {
        try await withOdoo { odoo, harness, client in
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo, apiKey: "test-only-wrong-key")
            let validation = try await client.send(
                .post, "/api/v1/organizations/acme/configuration/ODOO_CONFIGURATION/validate", key: harness.acmeAdmin)
            #expect(validation.status == .badRequest)
            #expect(try validation.errorCode() == "invalid_credentials")
            let audited = try await AuditRow.all(
                harness.postgres, organizationID: harness.acme.id, action: "configuration.validate")
            #expect(audited.map(\.details) == [["result": "failed"]])
            #expect(!(audited.first?.detailsText.contains("test-only-wrong-key") ?? true))
            let response = try await sync(client, key: harness.acmeAdmin)
            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "invalid_credentials")
            #expect(!response.text.contains("test-only-wrong-key"))
            let runs = try #require(
                try await client.send(.get, "/api/v1/contacts/sync/odoo/runs", key: harness.acmeAdmin).object()["runs"]
                    as? [[String: Any]])
            #expect(runs.first?["status"] as? String == "failed")
            #expect((runs.first?["error"] as? String)?.contains("refused the login") == true)
        }
    }

    @Test func anAccessErrorIsReportedWithOdoosExceptionName() async throws {
        try await withOdoo { odoo, harness, client in
            _ = try await configure(
                client, key: harness.acmeAdmin, odoo: odoo, login: "portal@example.com", apiKey: "test-only-portal-key")
            let response = try await sync(client, key: harness.acmeAdmin)
            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "odoo_error")
            #expect(response.text.contains("odoo.exceptions.AccessError"))
        }
    }

    @Test func validateReportsOdooVersionAndHowManyPartnersTheDomainMatches() async throws {
        try await withOdoo { odoo, harness, client in
            odoo.addPartners([
                .init(name: "Customer", phone: "+12125550001", customerRank: 1),
                .init(name: "Vendor", phone: "+12125550002", customerRank: 0),
                .init(name: "Customer 2", phone: "+12125550003", customerRank: 2),
            ])
            let put = try await configure(
                client, key: harness.acmeAdmin, odoo: odoo,
                domain: .array([.array([.string("customer_rank"), .string(">"), .number(0)])]))
            #expect(put.status == .created)
            #expect(!put.text.contains(Self.apiKey))
            let validation = try await client.send(
                .post, "/api/v1/organizations/acme/configuration/ODOO_CONFIGURATION/validate", key: harness.acmeAdmin)
            #expect(validation.status == .ok)
            let body = try validation.object()
            #expect(body["odoo_version"] as? String == "17.0")
            #expect(body["partner_count"] as? Int == 2)
            let audited = try await AuditRow.all(
                harness.postgres, organizationID: harness.acme.id, action: "configuration.validate")
            #expect(audited.map(\.details) == [["result": "ok"]])
            #expect(audited.first?.target == "ODOO_CONFIGURATION" && audited.first?.keyRole == "admin")
            #expect(try await sync(client, key: harness.acmeAdmin).object()["created"] as? Int == 2)
        }
    }

    @Test func invalidOdooConfigurationIsRefusedFieldByField() async throws {
        try await withOdoo { _, harness, client in
            let response = try await client.send(
                .put, "/api/v1/organizations/acme/configuration/ODOO_CONFIGURATION", key: harness.acmeAdmin,
                json: [
                    "url": .string("ftp://odoo.example.com"), "database": .string("db"), "username": .string("u"),
                    "api_key": .string("k"),
                    "domain": .array([.string("|"), .array([.string("name"), .string("~~"), .string("x")])]),
                    "write_back": .string("yes"),
                ])
            #expect(response.status == .unprocessableContent)
            let fields = try #require((try response.object()["error"] as? [String: Any])?["fields"] as? [[String: Any]])
            #expect(Set(fields.compactMap { $0["field"] as? String }) == ["url", "domain[1]", "write_back"])
        }
    }

    @Test func syncIsAdminOnlyAndEachOrganizationSeesOnlyItsOwn() async throws {
        try await withOdoo { odoo, harness, client in
            odoo.addPartners([.init(name: "Acme's", phone: "+12125550001")])
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo)
            #expect(try await sync(client, key: harness.acmeService).status == .forbidden)
            #expect(try await sync(client, key: harness.platformKey).status == .forbidden)
            #expect(try await sync(client, key: harness.acmeAdmin).status == .ok)
            let globex = try await sync(client, key: harness.globexAdmin)
            #expect(globex.status == .notFound)
            #expect(try globex.errorCode() == "configuration_not_found")
            let globexRuns = try await client.send(.get, "/api/v1/contacts/sync/odoo/runs", key: harness.globexAdmin).object()
            #expect((globexRuns["runs"] as? [Any])?.isEmpty == true)
            #expect(try await contacts(client, key: harness.globexAdmin).isEmpty)
            #expect(
                try await client.send(
                    .post, "/api/v1/organizations/acme/configuration/ODOO_CONFIGURATION/validate", key: harness.globexAdmin
                ).status == .notFound)
            // Refused: no validation audited in either organization.
            for organization in [harness.acme.id, harness.globex.id] {
                #expect(
                    try await AuditRow.all(harness.postgres, organizationID: organization, action: "configuration.validate")
                        .isEmpty)
            }
        }
    }

    @Test func aSecondSyncWhileOneRunsIsRefusedWith409() async throws {
        try await withOdoo { odoo, harness, client in
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo)
            let store = harness.dependencies.odoo.store
            let inner = try await store.withSyncLock(organizationID: harness.acme.id, logger: TestDatabase.logger) {
                try await sync(client, key: harness.acmeAdmin)
            }
            #expect(inner?.status == .conflict)
            #expect(try inner?.errorCode() == "sync_in_progress")
        }
    }

    // MARK: - Write-back

    /// A completed cold call to the contact with `phone`, through the production outcome path.
    func recordOutcome(_ harness: AppHarness, phone: String, notes: String = "wants a demo") async throws {
        let postgres = harness.postgres
        let organizationID = harness.acme.id
        let conferenceID = UUID()
        let callID = UUID()
        try await postgres.query(
            """
            INSERT INTO conferences (organization_id, id, provider, name, status, contact_id, contact_phone, from_number,
                agent_client_id, ended_at)
            SELECT \(organizationID), \(conferenceID), 'twilio', \("sb-" + conferenceID.uuidString), 'completed', id,
                phone_e164, '+14155550100', 'agent-7', now()
            FROM contacts WHERE organization_id = \(organizationID) AND phone_e164 = \(phone)
            """, logger: TestDatabase.logger)
        try await postgres.query(
            """
            INSERT INTO calls (organization_id, id, provider, provider_call_id, status, from_number, to_number,
                duration_seconds, conference_id, recording_url)
            VALUES (\(organizationID), \(callID), 'twilio', \("CA" + callID.uuidString), 'completed', '+14155550100',
                \(phone), 125, \(conferenceID), 'https://recordings.example.com/r/1')
            """, logger: TestDatabase.logger)
        let entry = try await harness.dependencies.conferences.recordOutcome(
            organizationID: organizationID, callID: callID,
            CallOutcomeRecord(outcome: "meeting_booked", notes: notes, callbackAt: nil, recordedBy: nil),
            actor: .commandLine, logger: TestDatabase.logger)
        #expect(entry != nil)
    }

    func dispatcher(_ harness: AppHarness) -> OutboxDispatcher {
        var dispatcher = harness.dependencies.outboxDispatcher
        dispatcher.baseBackoff = .zero
        return dispatcher
    }

    @Test func anOutcomeWaitsInTheOutboxWhileOdooIsDownAndIsPostedOnceWhenItIsBack() async throws {
        try await withOdoo { odoo, harness, client in
            let ids = odoo.addPartners([.init(name: "Ada", phone: "+12125550001")])
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo)
            _ = try await sync(client, key: harness.acmeAdmin)
            odoo.setDown(true)
            try await recordOutcome(harness, phone: "+12125550001", notes: "<b>wants</b> a demo")
            let dispatcher = dispatcher(harness)
            #expect(try await dispatcher.deliverDue(logger: TestDatabase.logger) == 1)
            #expect(odoo.messages(partnerID: ids[0]).isEmpty)
            let waiting = try await client.send(.get, "/api/v1/contacts/sync/odoo/runs", key: harness.acmeAdmin).object()
            let writeBack = try #require(waiting["write_back"] as? [String: Any])
            #expect(writeBack["pending"] as? Int == 1)
            #expect((writeBack["last_error"] as? String)?.contains("HTTP 503") == true)
            odoo.setDown(false)
            #expect(try await dispatcher.deliverDue(logger: TestDatabase.logger) == 1)
            #expect(try await dispatcher.deliverDue(logger: TestDatabase.logger) == 0)
            let messages = odoo.messages(partnerID: ids[0])
            #expect(messages.count == 1)
            #expect(messages.first?.body.contains("meeting booked") == true)
            #expect(messages.first?.body.contains("2m 5s") == true)
            #expect(messages.first?.body.contains("&lt;b&gt;wants&lt;/b&gt; a demo") == true)
            #expect(messages.first?.body.contains("https://recordings.example.com/r/1") == true)
            let after = try await client.send(.get, "/api/v1/contacts/sync/odoo/runs", key: harness.acmeAdmin).object()
            #expect((after["write_back"] as? [String: Any])?["delivered"] as? Int == 1)
        }
    }

    @Test func aPostWhoseAnswerWasLostIsNotPostedAgain() async throws {
        try await withOdoo { odoo, harness, client in
            let ids = odoo.addPartners([.init(name: "Ada", phone: "+12125550001")])
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo)
            _ = try await sync(client, key: harness.acmeAdmin)
            try await recordOutcome(harness, phone: "+12125550001")
            odoo.loseNextMessagePostAnswer()
            let dispatcher = dispatcher(harness)
            try await dispatcher.deliverDue(logger: TestDatabase.logger)
            #expect(odoo.messages(partnerID: ids[0]).count == 1)
            #expect(try await dispatcher.deliverDue(logger: TestDatabase.logger) == 1)
            #expect(odoo.messages(partnerID: ids[0]).count == 1)
            let summary = try await harness.dependencies.outbox.summary(
                organizationID: harness.acme.id, kind: OdooSyncStore.writeBackKind, logger: TestDatabase.logger)
            #expect(summary.delivered == 1)
        }
    }

    @Test func noWriteBackIsQueuedWhenWriteBackIsOffOrTheContactIsNotFromOdoo() async throws {
        try await withOdoo { odoo, harness, client in
            odoo.addPartners([.init(name: "Ada", phone: "+12125550001")])
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo, writeBack: false)
            _ = try await sync(client, key: harness.acmeAdmin)
            try await client.send(
                .post, "/api/v1/contacts/import", key: harness.acmeAdmin, raw: "name,phone\nLocal,+12125550002",
                headers: [.contentType: "text/csv"])
            try await recordOutcome(harness, phone: "+12125550001")
            try await recordOutcome(harness, phone: "+12125550002")
            #expect(try await dispatcher(harness).deliverDue(logger: TestDatabase.logger) == 0)
            #expect(odoo.allMessages.isEmpty)
        }
    }

    // MARK: - Scale

    @Test func fiftyThousandPartnersSyncInPagesWithBoundedMemory() async throws {
        try await withOdoo { odoo, harness, client in
            odoo.seed(count: 50_000)
            _ = try await configure(client, key: harness.acmeAdmin, odoo: odoo)
            let before = Self.residentKilobytes()
            Self.resetPeakResident()
            let clock = ContinuousClock()
            let started = clock.now
            let response = try await sync(client, key: harness.acmeAdmin)
            let elapsed = clock.now - started
            let peak = Self.peakResidentKilobytes()
            let run = try response.object()
            print(
                "odoo-sync-50k: \(elapsed) for 50,000 partners, \(odoo.served.searchReads) pages; RSS before \(before / 1024) MiB, peak during \(peak / 1024) MiB"
            )
            #expect(run["status"] as? String == "succeeded")
            #expect(run["created"] as? Int == 45_000)
            #expect(run["skipped"] as? Int == 5_000)
            #expect(odoo.served.searchReads == 51)
            // Pages of 1,000: the sync holds one page at a time, so memory does not grow with the partner count.
            #expect(peak - before < 256 * 1024)
        }
    }

    static func residentKilobytes() -> Int { statusField("VmRSS:") }
    static func peakResidentKilobytes() -> Int { statusField("VmHWM:") }

    /// Linux: resets VmHWM to the current RSS.
    static func resetPeakResident() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.dropFirst(name.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") ?? 0
        }
        return 0
    }
}

/// The outbound policy's address rules, without the network.
@Suite struct OutboundPolicyTests {
    @Test func privateLoopbackLinkLocalAndMetadataAddressesAreNotPublic() {
        let refused: [[UInt8]] = [
            [127, 0, 0, 1], [10, 1, 2, 3], [172, 16, 0, 1], [192, 168, 1, 1], [169, 254, 169, 254], [100, 64, 0, 1],
            [0, 0, 0, 0], [224, 0, 0, 1],
            Array(repeating: 0, count: 15) + [1],
            [0xfe, 0x80] + Array(repeating: 0, count: 13) + [1],
            [0xfd, 0x00, 0x0e, 0xc2] + Array(repeating: 0, count: 11) + [0xfe],
            Array(repeating: 0, count: 10) + [0xff, 0xff, 127, 0, 0, 1],
        ]
        for address in refused { #expect(!OutboundPolicy.isPublic(address), "\(address)") }
        #expect(OutboundPolicy.isPublic([93, 184, 216, 34]))
        #expect(OutboundPolicy.isPublic([0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0, 1, 0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46]))
    }

    @Test func plainHTTPAndLoopbackTargetsAreRefusedBeforeConnecting() async throws {
        let policy = OutboundPolicy()
        await #expect(throws: OutboundPolicy.Refusal.notHTTPS) {
            try await policy.client(for: URL(string: "http://odoo.example.com")!).shutdown()
        }
        await #expect(throws: OutboundPolicy.Refusal.forbiddenAddress(host: "127.0.0.1", address: "127.0.0.1")) {
            try await policy.client(for: URL(string: "https://127.0.0.1")!).shutdown()
        }
        do {
            try await policy.client(for: URL(string: "https://localhost:8069")!).shutdown()
            Issue.record("localhost was allowed")
        } catch {
            guard case .forbiddenAddress(host: "localhost", address: _)? = error as? OutboundPolicy.Refusal else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    @Test func anOdooConfigurationPointingAtLoopbackIsRefusedWithoutTheInsecureFlag() async throws {
        try await AppHarness.run { harness, client in
            _ = try await client.send(
                .put, "/api/v1/organizations/acme/configuration/ODOO_CONFIGURATION", key: harness.acmeAdmin,
                json: [
                    "url": .string("https://127.0.0.1:8069"), "database": .string("db"), "username": .string("u"),
                    "api_key": .string("test-only-key"),
                ])
            let response = try await client.send(.post, "/api/v1/contacts/sync/odoo", key: harness.acmeAdmin)
            #expect(response.status == .unprocessableContent)
            #expect(try response.errorCode() == "odoo_target_refused")
        }
    }
}
