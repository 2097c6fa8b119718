import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

/// The contact store on a real database: the merge rule, batches, audit, tenancy, search, pages.
@Suite struct ContactStoreTests {
    let logger = StoreFixtures.logger

    /// Contact values, shortly.
    func fields(_ name: String?, _ phone: String, _ company: String? = nil, _ notes: String? = nil) -> ContactFields {
        ContactFields(name: name, phoneE164: phone, company: company, notes: notes)
    }

    @Test func theFirstNonEmptyValueOfEachFieldWins() {
        let (rows, duplicates) = ContactFields.mergedByPhone([
            fields("Ada", "+14155550100"),
            fields(nil, "+14155550101", "Globex"),
            fields("Ada Byron", "+14155550100", "Acme"),
            fields(nil, "+14155550100", "Initech", "met at expo"),
            fields("Bob", "+14155550101", nil, "call after 5"),
        ])
        #expect(duplicates == 3)
        #expect(
            rows == [
                fields("Ada", "+14155550100", "Acme", "met at expo"), fields("Bob", "+14155550101", "Globex", "call after 5"),
            ])
    }

    @Test func anImportInsertsNewNumbersAndOnlyFillsEmptyFieldsOfStoredOnes() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ContactStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let first = try await store.importContacts(
                organizationID: organization.id, rows: [fields("Ada", "+14155550100", nil, "vip")], totalRows: 1,
                rejected: 0, actor: .commandLine, logger: logger)
            #expect(first == ContactImportOutcome(imported: 1, merged: 0))
            let second = try await store.importContacts(
                organizationID: organization.id,
                rows: [
                    fields(nil, "+14155550100", "Acme", nil), fields("Ada Byron", "+14155550100", "Initech", "other"),
                    fields("Bob", "+14155550101"),
                ],
                totalRows: 4, rejected: 1, actor: .commandLine, logger: logger)
            #expect(second == ContactImportOutcome(imported: 1, merged: 2))
            let all = try await store.list(
                organizationID: organization.id, search: nil, after: nil, limit: 10, logger: logger)
            let ada = try #require(all.first { $0.phoneE164 == "+14155550100" })
            #expect(ada.name == "Ada" && ada.company == "Acme" && ada.notes == "vip")
            #expect(all.count == 2)
        }
    }

    @Test func anImportLargerThanOneBatchIsStoredWhole() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ContactStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let rows = (0..<4_500).map { fields("Person \($0)", "+1415\(String(format: "%07d", 2_000_000 + $0))") }
            let outcome = try await store.importContacts(
                organizationID: organization.id, rows: rows + rows.prefix(10), totalRows: 4_510, rejected: 0,
                actor: .commandLine, logger: logger)
            #expect(outcome == ContactImportOutcome(imported: 4_500, merged: 10))
            let count = try await client.query(
                "SELECT count(*) FROM contacts WHERE organization_id = \(organization.id)", logger: logger)
            for try await value in count.decode(Int.self) { #expect(value == 4_500) }
        }
    }

    @Test func auditEventsHoldCountsAndIdsButNoContactData() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ContactStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            _ = try await store.importContacts(
                organizationID: organization.id, rows: [fields("Zoë Secret", "+14155550123", "Hidden Co", "private")],
                totalRows: 3, rejected: 2, actor: .commandLine, logger: logger)
            let contact = try #require(
                try await store.list(organizationID: organization.id, search: nil, after: nil, limit: 1, logger: logger).first)
            _ = try await store.update(
                organizationID: organization.id, id: contact.id, changes: ContactChanges(name: .some("New Secret")),
                actor: .commandLine, logger: logger)
            #expect(try await store.delete(organizationID: organization.id, id: contact.id, actor: .commandLine, logger: logger))
            let events = try await AuditStore(client: client).list(
                organizationID: organization.id, before: nil, limit: 10, logger: logger)
            let importEvent = try #require(events.first { $0.action == "contacts.import" })
            #expect(importEvent.details == ["imported": "1", "merged": "0", "rejected": "2", "total_rows": "3"])
            #expect(events.first { $0.action == "contact.update" }?.details == ["fields": "name"])
            #expect(events.first { $0.action == "contact.delete" }?.target == contact.id.uuidString.lowercased())
            let text = "\(events)"
            for data in ["Zoë", "Secret", "+14155550123", "Hidden", "private"] { #expect(!text.contains(data)) }
        }
    }

    @Test func updatesAndDeletesStayInsideTheOrganization() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ContactStore(client: client)
            let owner = try await StoreFixtures.organization(client)
            let other = try await StoreFixtures.organization(client)
            _ = try await store.importContacts(
                organizationID: owner.id, rows: [fields("Ada", "+14155550100"), fields("Bob", "+14155550101")], totalRows: 2,
                rejected: 0, actor: .commandLine, logger: logger)
            let contacts = try await store.list(organizationID: owner.id, search: nil, after: nil, limit: 10, logger: logger)
            let ada = try #require(contacts.first { $0.name == "Ada" })
            #expect(try await store.get(organizationID: other.id, id: ada.id, logger: logger) == nil)
            #expect(
                try await store.update(
                    organizationID: other.id, id: ada.id, changes: ContactChanges(name: .some("Mallory")), actor: .commandLine,
                    logger: logger) == nil)
            #expect(try await store.delete(organizationID: other.id, id: ada.id, actor: .commandLine, logger: logger) == false)
            #expect(try await store.get(organizationID: owner.id, id: ada.id, logger: logger) == ada)

            await #expect(throws: PersistenceError.self) {
                _ = try await store.update(
                    organizationID: owner.id, id: ada.id, changes: ContactChanges(phoneE164: "+14155550101"),
                    actor: .commandLine, logger: logger)
            }
            // The same number in another organization is no collision.
            _ = try await store.importContacts(
                organizationID: other.id, rows: [fields("Ada elsewhere", "+14155550100")], totalRows: 1, rejected: 0,
                actor: .commandLine, logger: logger)
            let cleared = try await store.update(
                organizationID: owner.id, id: ada.id, changes: ContactChanges(name: .some(nil), company: .some("Acme")),
                actor: .commandLine, logger: logger)
            #expect(cleared?.name == nil && cleared?.company == "Acme" && cleared?.phoneE164 == "+14155550100")
        }
    }

    @Test func searchIgnoresCaseBeyondASCIIAndMatchesPhoneDigits() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ContactStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            _ = try await store.importContacts(
                organizationID: organization.id,
                rows: [
                    fields("Zoë Ñúñez", "+34612345678"), fields("山田太郎", "+81312345678"), fields("Ada 100%_", "+14155550100"),
                    fields(nil, "+442079460000"),
                ],
                totalRows: 4, rejected: 0, actor: .commandLine, logger: logger)
            func names(_ text: String, digits: String? = nil) async throws -> Set<String> {
                Set(
                    try await store.list(
                        organizationID: organization.id, search: ContactSearch(text: text, digits: digits), after: nil,
                        limit: 10, logger: logger
                    ).map { $0.name ?? $0.phoneE164 })
            }
            #expect(try await names("ZOË ÑÚ") == ["Zoë Ñúñez"])
            #expect(try await names("太郎") == ["山田太郎"])
            #expect(try await names("%") == ["Ada 100%_"])
            #expect(try await names("_") == ["Ada 100%_"])
            #expect(try await names("20 7946", digits: "207946") == ["+442079460000"])
            #expect(try await names("nobody") == [])
        }
    }

    @Test func pagesFollowCreationNewestFirstAcrossRowsOfOneImport() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ContactStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            _ = try await store.importContacts(
                organizationID: organization.id, rows: (0..<7).map { fields("P\($0)", "+1415555010\($0)") }, totalRows: 7,
                rejected: 0, actor: .commandLine, logger: logger)
            let all = try await store.list(organizationID: organization.id, search: nil, after: nil, limit: 100, logger: logger)
            var seen: [UUID] = []
            var cursor: (micros: Int64, id: UUID)?
            repeat {
                let page = try await store.list(
                    organizationID: organization.id, search: nil, after: cursor, limit: 3, logger: logger)
                seen += page.map(\.id)
                cursor = page.count == 3
                    ? page.last.map { (Int64(($0.createdAt.timeIntervalSince1970 * 1_000_000).rounded()), $0.id) } : nil
            } while cursor != nil
            #expect(seen == all.map(\.id))
            #expect(Set(seen).count == 7)
        }
    }
}
