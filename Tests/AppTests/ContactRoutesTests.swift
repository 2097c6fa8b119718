import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import App

/// `/api/v1/contacts`: CSV import, listing, edits and tenancy, on a real database.
@Suite struct ContactRoutesTests {
    /// Posts `csv` to the import route as text/csv.
    @discardableResult
    func importCSV(
        _ client: some TestClientProtocol, key: String, _ csv: String, query: String = ""
    ) async throws -> TestResponse {
        try await client.send(
            .post, "/api/v1/contacts/import\(query)", key: key, raw: csv, headers: [.contentType: "text/csv"])
    }

    /// Posts raw bytes to the import route as text/csv.
    func importBytes(_ client: some TestClientProtocol, key: String, _ bytes: [UInt8]) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v1/contacts/import", method: .post,
            headers: [.authorization: "Bearer \(key)", .contentType: "text/csv"], body: ByteBuffer(bytes: bytes))
    }

    /// Every contact the key can see, by phone number.
    func contacts(_ client: some TestClientProtocol, key: String) async throws -> [String: [String: Any]] {
        let list = try await client.send(.get, "/api/v1/contacts?limit=200", key: key).object()
        let items = try #require(list["contacts"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: items.map { ($0["phone"] as? String ?? "", $0) })
    }

    /// The import's counts and rejected lines.
    func summary(_ response: TestResponse) throws -> (imported: Int, merged: Int, lines: [Int], total: Int) {
        let body = try response.object()
        let rejected = try #require(body["rejected"] as? [[String: Any]])
        return (
            body["imported"] as? Int ?? -1, body["merged"] as? Int ?? -1, rejected.compactMap { $0["line"] as? Int },
            body["total_rows"] as? Int ?? -1
        )
    }

    /// The one integer `sql` selects.
    func count(_ harness: AppHarness, _ sql: PostgresQuery) async throws -> Int {
        var result = -1
        for try await value in try await harness.postgres.query(sql, logger: TestDatabase.logger).decode(Int.self) {
            result = value
        }
        return result
    }

    @Test(arguments: [
        "Mobile,Organisation,Full Name,Comments\r\n+1 415 555 0101,Acme,Ada Lovelace,VIP\r\n",
        "NOTES,phone_number,COMPANY,name\n VIP ,(415) 555-0101,Acme,Ada Lovelace\n",
        "Telephone,Business,Contact,Note\n415.555.0101,Acme,Ada Lovelace,VIP\n",
        "Tel,Last Name,Organization,First Name,Email,Notes\n4155550101,Lovelace,Acme,Ada,ada@example.com,VIP\n",
    ])
    func aHeaderNamesTheColumnsInAnyOrder(_ csv: String) async throws {
        try await AppHarness.run { harness, client in
            let response = try await importCSV(client, key: harness.acmeService, csv)
            #expect(response.status == .ok, "\(response.text)")
            #expect(try summary(response) == (1, 0, [], 1))
            let ada = try #require(try await contacts(client, key: harness.acmeService)["+14155550101"])
            #expect(ada["name"] as? String == "Ada Lovelace")
            #expect(ada["company"] as? String == "Acme")
            #expect(ada["notes"] as? String == "VIP")
        }
    }

    @Test func withoutAHeaderTheColumnsAreNamePhoneCompanyNotes() async throws {
        try await AppHarness.run { harness, client in
            let response = try await importCSV(
                client, key: harness.acmeAdmin, "Ada Lovelace,415 555 0101,Acme,VIP\nGrace Hopper,+1 415 555 0102\n")
            #expect(try summary(response) == (2, 0, [], 2))
            let stored = try await contacts(client, key: harness.acmeAdmin)
            #expect(stored["+14155550101"]?["company"] as? String == "Acme")
            #expect(stored["+14155550102"]?["name"] as? String == "Grace Hopper")
            #expect(stored["+14155550102"]?["company"] == nil)
        }
    }

    @Test func quotedFieldsKeepCommasLineBreaksAndQuotesAndLinesStayPhysical() async throws {
        try await AppHarness.run { harness, client in
            let csv =
                "name,phone,company,notes\r\n"
                + "\"Smith, John\",\"(415) 555-0102\",\"Acme, Inc.\",\"Line one\r\nLine two with \"\"quotes\"\"\"\r\n"
                + "Bad Number,555,,\r\n"
            let response = try await importCSV(client, key: harness.acmeService, csv)
            // The quoted notes span lines 2-3, so the bad row is line 4.
            #expect(try summary(response) == (1, 0, [4], 2))
            let john = try #require(try await contacts(client, key: harness.acmeService)["+14155550102"])
            #expect(john["name"] as? String == "Smith, John")
            #expect(john["company"] as? String == "Acme, Inc.")
            #expect(john["notes"] as? String == "Line one\r\nLine two with \"quotes\"")
        }
    }

    @Test func aByteOrderMarkIsSkippedAndUTF8NamesAreKept() async throws {
        try await AppHarness.run { harness, client in
            let csv = "\u{FEFF}Name,Phone\nZoë Ñúñez,+34 612 345 678\n山田太郎,+81 3-1234-5678\n\n\n"
            let response = try await importCSV(client, key: harness.acmeService, csv)
            #expect(try summary(response) == (2, 0, [], 2))
            let stored = try await contacts(client, key: harness.acmeService)
            #expect(stored["+34612345678"]?["name"] as? String == "Zoë Ñúñez")
            #expect(stored["+81312345678"]?["name"] as? String == "山田太郎")
        }
    }

    @Test func nationalNumbersFollowDefaultCountry() async throws {
        try await AppHarness.run { harness, client in
            let us = try await importCSV(client, key: harness.acmeService, "a,(415) 555-0100\nb,1-415-555-0101\n")
            #expect(try summary(us) == (2, 0, [], 2))
            let gb = try await importCSV(
                client, key: harness.acmeService, "c,07911 123456\nd,020 7946 0000\n", query: "?default_country=gb")
            #expect(try summary(gb) == (2, 0, [], 2))
            let stored = try await contacts(client, key: harness.acmeService)
            #expect(Set(stored.keys) == ["+14155550100", "+14155550101", "+447911123456", "+442079460000"])
            let unknown = try await importCSV(client, key: harness.acmeService, "e,1\n", query: "?default_country=XX")
            #expect(unknown.status == .badRequest)
            #expect(try unknown.errorCode() == "invalid_query")
        }
    }

    @Test func internationalNumbersWithPlusOrDoubleZero() async throws {
        try await AppHarness.run { harness, client in
            let csv = "a,+49 30 1234567\nb,0033 1 23 45 67 89\nc,+44 (0)20 7946 0001\n"
            let response = try await importCSV(client, key: harness.acmeService, csv, query: "?default_country=GB")
            #expect(try summary(response) == (3, 0, [], 3))
            let stored = try await contacts(client, key: harness.acmeService)
            #expect(Set(stored.keys) == ["+49301234567", "+33123456789", "+442079460001"])
        }
    }

    @Test func invalidRowsAreRejectedByLineWhileValidOnesAreStored() async throws {
        try await AppHarness.run { harness, client in
            let csv = """
                name,phone,company
                Ada,+14155550101,Acme
                Short,12345,Acme
                No Phone,,Acme
                Vanity,1-800-FLOWERS,
                "Broken"quote,+14155550109,
                Grace,+1 415 555 0102,

                """
            let response = try await importCSV(client, key: harness.acmeService, csv)
            #expect(response.status == .ok)
            #expect(try summary(response) == (2, 0, [3, 4, 5, 6], 6))
            let reasons = try #require(try response.object()["rejected"] as? [[String: Any]]).compactMap { $0["reason"] as? String }
            #expect(reasons[0].hasPrefix("invalid phone number"))
            #expect(reasons[1] == "the row has no phone number")
            #expect(reasons[3].contains("closing quote"))
            #expect(Set(try await contacts(client, key: harness.acmeService).keys) == ["+14155550101", "+14155550102"])
        }
    }

    @Test func duplicatesInTheFileAndAgainstStoredContactsAreMerged() async throws {
        try await AppHarness.run { harness, client in
            try await importCSV(client, key: harness.acmeService, "Ada,+14155550101,,\n")
            let csv = """
                name,phone,company,notes
                ,+1 415 555 0101,Acme,first note
                Ada Byron,4155550101,Initech,second note
                ,+14155550199,,
                Bob,(415) 555-0199,Globex,
                Bob Again,+14155550199,,ignored? no: fills notes

                """
            let response = try await importCSV(client, key: harness.acmeService, csv)
            // Row 2 fills Ada's company and notes; row 3 changes nothing (all set); row 4 is new;
            // rows 5 and 6 fill row 4's empty fields.
            #expect(try summary(response) == (1, 4, [], 5))
            let stored = try await contacts(client, key: harness.acmeService)
            #expect(stored.count == 2)
            let ada = try #require(stored["+14155550101"])
            #expect(ada["name"] as? String == "Ada")
            #expect(ada["company"] as? String == "Acme")
            #expect(ada["notes"] as? String == "first note")
            let bob = try #require(stored["+14155550199"])
            #expect(bob["name"] as? String == "Bob")
            #expect(bob["company"] as? String == "Globex")
            #expect(bob["notes"] as? String == "ignored? no: fills notes")
            // An empty value never replaces a stored one.
            try await importCSV(client, key: harness.acmeService, ",+14155550101,,\n")
            let again = try await contacts(client, key: harness.acmeService)["+14155550101"]
            #expect(again?["name"] as? String == "Ada" && again?["notes"] as? String == "first note")
        }
    }

    @Test func aBodyThatIsNotCSVIsRefusedWholeAndStoresNothing() async throws {
        try await AppHarness.run { harness, client in
            let bodies: [[UInt8]] = [
                Array("Ada,+14155550101\n".utf8) + [0x00, 0x01, 0x02, 0xFF] + Array("\nBob,+14155550102\n".utf8),
                [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D],
                Array("Zo".utf8) + [0xEB] + Array(",+14155550101\n".utf8),
                Array("name;phone\nAda;+14155550101\n".utf8),
                Array("Name,Company\nAda,Acme\n".utf8),
                Array("name,phone\n".utf8),
                [],
            ]
            for bytes in bodies {
                let response = try await importBytes(client, key: harness.acmeService, bytes)
                #expect(response.status == .badRequest, "\(bytes.prefix(12)) → \(response.text)")
                #expect(try response.errorCode() == "invalid_csv")
            }
            #expect(try await count(harness, "SELECT count(*)::int FROM contacts") == 0)
            #expect(try await count(harness, "SELECT count(*)::int FROM audit_events WHERE action = 'contacts.import'") == 0)
        }
    }

    @Test func moreThanFiftyThousandRowsAreRefused() async throws {
        try await AppHarness.run { harness, client in
            let rows = (0...ContactCSVImport.maxRows).map { "p\($0),+1415\(2_000_000 + $0)" }.joined(separator: "\n")
            let response = try await importCSV(client, key: harness.acmeService, rows)
            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "too_many_rows")
            #expect(try await count(harness, "SELECT count(*)::int FROM contacts") == 0)
        }
    }

    /// In router mode, which sends Content-Length like a real client: the middleware's check is
    /// what refuses (RequestLimitsTests covers the same check over a live socket).
    @Test func aCSVOverOneMebibyteIsAcceptedAndOverFiveIs413() async throws {
        try await AppHarness.run { harness, client in
            let notes = String(repeating: "n", count: 1_990)
            let rows = (0..<1_000).map { "Person \($0),+1415\(2_000_000 + $0),Acme,\(notes)" }.joined(separator: "\n")
            #expect(rows.utf8.count > 3 << 20 / 2)
            let accepted = try await importCSV(client, key: harness.acmeService, rows)
            #expect(accepted.status == .ok, "\(accepted.text.prefix(200))")
            #expect(try summary(accepted) == (1_000, 0, [], 1_000))

            let padding = String(repeating: "x", count: (5 << 20) + 1)
            let refused = try await importCSV(client, key: harness.acmeService, "Big,+14155550100,\(padding)")
            #expect(refused.status == .contentTooLarge)
            #expect(try refused.errorCode() == "payload_too_large")
            #expect(try await count(harness, "SELECT count(*)::int FROM contacts") == 1_000)
            // Only this route has the larger limit.
            let elsewhere = try await client.send(
                .patch, "/api/v1/contacts/\(UUID())", key: harness.acmeService, raw: #"{"notes":"\#(rows)"}"#)
            #expect(elsewhere.status == .contentTooLarge)
        }
    }

    @Test func importsNeedCSVAndAnOrganizationKey() async throws {
        try await AppHarness.run { harness, client in
            let json = try await client.send(
                .post, "/api/v1/contacts/import", key: harness.acmeService, raw: "Ada,+14155550101")
            #expect(json.status == .unsupportedMediaType)
            let latin1 = try await client.send(
                .post, "/api/v1/contacts/import", key: harness.acmeService, raw: "Ada,+14155550101",
                headers: [.contentType: "text/csv; charset=iso-8859-1"])
            #expect(latin1.status == .unsupportedMediaType)
            let platform = try await importCSV(client, key: harness.platformKey, "Ada,+14155550101")
            #expect(platform.status == .forbidden)
            let anonymous = try await client.send(
                .post, "/api/v1/contacts/import", raw: "Ada,+14155550101", headers: [.contentType: "text/csv"])
            #expect(anonymous.status == .unauthorized)
            for path in ["/api/v1/contacts", "/api/v1/contacts/\(UUID())"] {
                #expect(try await client.send(.get, path, key: harness.platformKey).status == .forbidden)
            }
            #expect(try await count(harness, "SELECT count(*)::int FROM contacts") == 0)
        }
    }

    @Test func searchAndCursorPagination() async throws {
        try await AppHarness.run { harness, client in
            try await importCSV(
                client, key: harness.acmeService,
                "Zoë Ñúñez,+34612345678\nzoe plain,+14155550101\nBob,+442079460000\n山田太郎,+81312345678\nAda,+14155550102\n")
            func search(_ query: String) async throws -> Set<String> {
                let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
                let page = try await client.send(.get, "/api/v1/contacts?search=\(encoded)", key: harness.acmeService).object()
                return Set(((page["contacts"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
            }
            #expect(try await search("ZOË") == ["Zoë Ñúñez"])
            #expect(try await search("zo") == ["Zoë Ñúñez", "zoe plain"])
            #expect(try await search("山田") == ["山田太郎"])
            #expect(try await search("415 555 01") == ["zoe plain", "Ada"])
            #expect(try await search("(20) 7946") == ["Bob"])
            #expect(try await search("+81") == ["山田太郎"])
            #expect(try await search("nobody") == [])

            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await client.send(
                    .get, "/api/v1/contacts?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), key: harness.acmeService
                ).object()
                seen += ((page["contacts"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
                pages += 1
            } while cursor != nil
            #expect(pages == 3)
            #expect(Set(seen).count == 5 && seen.count == 5)
            let all = try await client.send(.get, "/api/v1/contacts", key: harness.acmeService).object()
            #expect(((all["contacts"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } == seen)

            for bad in ["limit=0", "limit=201", "cursor=nope", "search=\(String(repeating: "a", count: 201))", "search=a%00b"] {
                let response = try await client.send(.get, "/api/v1/contacts?\(bad)", key: harness.acmeService)
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    /// Imports one contact and returns its id.
    func seedAda(_ harness: AppHarness, _ client: some TestClientProtocol) async throws -> String {
        try await importCSV(client, key: harness.acmeService, "Ada,+14155550101,Initech,vip\nGrace,+14155550102,,\n")
        return try #require(try await contacts(client, key: harness.acmeService)["+14155550101"]?["id"] as? String)
    }

    @Test func patchChangesValidatedFieldsAndRenormalisesThePhone() async throws {
        try await AppHarness.run { harness, client in
            let id = try await seedAda(harness, client)
            let path = "/api/v1/contacts/\(id)"
            let patched = try await client.send(
                .patch, path, key: harness.acmeService,
                json: ["name": .string("  Ada King  "), "phone": .string("07911 123456"), "default_country": .string("GB"),
                       "company": .null])
            #expect(patched.status == .ok, "\(patched.text)")
            let body = try patched.object()
            #expect(body["name"] as? String == "Ada King")
            #expect(body["phone"] as? String == "+447911123456")
            #expect(body["company"] == nil)
            #expect(body["notes"] as? String == "vip")
            #expect(body["id"] as? String == id)

            let read = try await client.send(.get, path, key: harness.acmeService).object()
            #expect(read["phone"] as? String == "+447911123456")
            let unchanged = try await client.send(.patch, path, key: harness.acmeService, json: [:])
            #expect(unchanged.status == .ok)
        }
    }

    @Test(arguments: [
        (#"{"name":"Ada","email":"a@example.com"}"#, "unknown_field"),
        (#"{"default_country":"GB","fax":"1"}"#, "unknown_field"),
        (#"{"name":42}"#, "invalid_field"),
        (#"{"phone":null}"#, "invalid_field"),
        (#"{"phone":"12345"}"#, "invalid_phone_number"),
        (#"{"phone":""}"#, "invalid_phone_number"),
        (#"{"phone":"07911 123456","default_country":"ZZ"}"#, "invalid_field"),
        (#"{"name":"a\u0000b"}"#, "invalid_field"),
        ("[1]", "malformed_json"),
        ("{", "malformed_json"),
    ])
    func badPatchesAre400AndChangeNothing(_ body: String, _ code: String) async throws {
        try await AppHarness.run { harness, client in
            let id = try await seedAda(harness, client)
            let before = try await client.send(.get, "/api/v1/contacts/\(id)", key: harness.acmeService).text
            let response = try await client.send(.patch, "/api/v1/contacts/\(id)", key: harness.acmeService, raw: body)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(try response.errorCode() == code)
            #expect(try await client.send(.get, "/api/v1/contacts/\(id)", key: harness.acmeService).text == before)
        }
    }

    @Test func overlongPatchValuesAre400() async throws {
        try await AppHarness.run { harness, client in
            let id = try await seedAda(harness, client)
            for (field, length) in [("name", 201), ("company", 201), ("notes", 2_001)] {
                let response = try await client.send(
                    .patch, "/api/v1/contacts/\(id)", key: harness.acmeService,
                    json: [field: .string(String(repeating: "ü", count: length))])
                #expect(response.status == .badRequest, "\(field)")
            }
        }
    }

    @Test func aPhoneNumberOfAnotherContactIsAConflict() async throws {
        try await AppHarness.run { harness, client in
            let id = try await seedAda(harness, client)
            let response = try await client.send(
                .patch, "/api/v1/contacts/\(id)", key: harness.acmeService, json: ["phone": .string("(415) 555-0102")])
            #expect(response.status == .conflict)
            #expect(try response.errorCode() == "phone_number_taken")
            let ada = try await client.send(.get, "/api/v1/contacts/\(id)", key: harness.acmeService).object()
            #expect(ada["phone"] as? String == "+14155550101")
            // Its own number again is no conflict.
            let same = try await client.send(
                .patch, "/api/v1/contacts/\(id)", key: harness.acmeService, json: ["phone": .string("415-555-0101")])
            #expect(same.status == .ok)
        }
    }

    @Test func deleteIs204ThenNotFoundAndIsAuditedWithoutContactData() async throws {
        try await AppHarness.run { harness, client in
            let id = try await seedAda(harness, client)
            let deleted = try await client.send(.delete, "/api/v1/contacts/\(id)", key: harness.acmeService)
            #expect(deleted.status == .noContent)
            #expect(try await client.send(.get, "/api/v1/contacts/\(id)", key: harness.acmeService).status == .notFound)
            #expect(try await client.send(.delete, "/api/v1/contacts/\(id)", key: harness.acmeService).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/contacts/not-a-uuid", key: harness.acmeService).status == .notFound)

            let audit = try await client.send(.get, "/api/v1/organizations/acme/audit-events", key: harness.acmeAdmin)
            let events = try #require(try audit.object()["events"] as? [[String: Any]])
            #expect(events.prefix(2).compactMap { $0["action"] as? String } == ["contact.delete", "contacts.import"])
            #expect(events.first?["target"] as? String == id)
            #expect(
                events[1]["details"] as? [String: String]
                    == ["imported": "2", "merged": "0", "rejected": "0", "total_rows": "2"])
            for data in ["Ada", "Grace", "4155550101", "Initech", "vip"] { #expect(!audit.text.contains(data)) }
        }
    }

    @Test func anotherOrganizationsKeyCannotReadChangeOrDeleteAContact() async throws {
        try await AppHarness.run { harness, client in
            let id = try await seedAda(harness, client)
            let path = "/api/v1/contacts/\(id)"
            let before = try await client.send(.get, path, key: harness.acmeService).text
            let read = try await client.send(.get, path, key: harness.globexAdmin)
            let patch = try await client.send(.patch, path, key: harness.globexAdmin, json: ["name": .string("Mallory")])
            let delete = try await client.send(.delete, path, key: harness.globexAdmin)
            for response in [read, patch, delete] {
                #expect(response.status == .notFound)
                #expect(try response.errorCode() == "contact_not_found")
                #expect(!response.text.contains("Ada") && !response.text.contains("4155550101"))
            }
            let list = try await client.send(.get, "/api/v1/contacts?search=Ada", key: harness.globexAdmin).object()
            #expect((list["contacts"] as? [Any])?.isEmpty == true)
            #expect(try await client.send(.get, path, key: harness.acmeService).text == before)
            // Globex importing the same number gets its own contact; Acme's is untouched.
            let globexImport = try await importCSV(client, key: harness.globexAdmin, "Mallory,+14155550101,Evil,\n")
            #expect(try summary(globexImport) == (1, 0, [], 1))
            #expect(try await client.send(.get, path, key: harness.acmeService).text == before)
        }
    }
}
