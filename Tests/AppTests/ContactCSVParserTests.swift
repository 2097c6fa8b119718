import Foundation
import Persistence
import Testing

@testable import App

/// The RFC 4180 reader and the contacts file layout, without a database.
@Suite struct ContactCSVParserTests {
    /// The records of `text`.
    func parse(_ text: String, maxRecords: Int = 100) throws -> [CSVParser.Record] {
        try CSVParser.parse(Array(text.utf8), maxRecords: maxRecords)
    }

    @Test func plainRecordsWithLFOrCRLFOrCR() throws {
        for text in ["a,b\nc,d\n", "a,b\r\nc,d\r\n", "a,b\rc,d", "a,b\nc,d"] {
            #expect(
                try parse(text) == [
                    CSVParser.Record(line: 1, fields: ["a", "b"]), CSVParser.Record(line: 2, fields: ["c", "d"]),
                ], "\(text.debugDescription)")
        }
    }

    @Test func quotedFieldsHoldCommasLineBreaksAndDoubledQuotes() throws {
        let text = "\"Smith, John\",\"line one\r\nline two\nline \"\"three\"\"\",plain\r\nnext,\"\",x\n"
        let records = try parse(text)
        #expect(records.count == 2)
        #expect(records[0] == CSVParser.Record(line: 1, fields: ["Smith, John", "line one\r\nline two\nline \"three\"", "plain"]))
        // The first record spans three physical lines, so the next starts on line 4.
        #expect(records[1] == CSVParser.Record(line: 4, fields: ["next", "", "x"]))
    }

    @Test func aByteOrderMarkIsSkippedAndUTF8IsKept() throws {
        let records = try parse("\u{FEFF}name,phone\nZoë Ñúñez,1\n山田太郎,2\n")
        #expect(records.map(\.fields) == [["name", "phone"], ["Zoë Ñúñez", "1"], ["山田太郎", "2"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    @Test func blankLinesAreNotRecordsButStillCountAsLines() throws {
        let records = try parse("a,b\n\n  \n,,\nc,d\n\n\n\r\n")
        #expect(records == [CSVParser.Record(line: 1, fields: ["a", "b"]), CSVParser.Record(line: 5, fields: ["c", "d"])])
    }

    @Test func emptyFieldsAndTrailingCommasAreFields() throws {
        #expect(try parse("a,,b,\n").first?.fields == ["a", "", "b", ""])
    }

    @Test func spacesAroundAQuotedFieldAreAllowedAndAQuoteInsideAnUnquotedFieldIsText() throws {
        #expect(try parse("a, \"b, c\" ,d\n").first?.fields == ["a", "b, c", "d"])
        #expect(try parse("5'11\",x\n").first?.fields == ["5'11\"", "x"])
    }

    @Test func anUnclosedQuoteOrTextAfterAClosingQuoteMarksOnlyThatRecord() throws {
        let afterQuote = try parse("ok,1\n\"bad\"x,2\nok,3\n")
        #expect(afterQuote.map(\.line) == [1, 2, 3])
        #expect(afterQuote[0].problem == nil && afterQuote[2].problem == nil)
        #expect(afterQuote[1].problem?.contains("closing quote") == true)
        let unclosed = try parse("ok,1\n\"never closed,2\nmore\n")
        #expect(unclosed.count == 2)
        #expect(unclosed[1].line == 2)
        #expect(unclosed[1].problem?.contains("not closed") == true)
    }

    @Test func binaryOrNonUTF8InputIsNotCSV() {
        #expect(throws: CSVParser.Failure.binary) { try CSVParser.parse([0x61, 0x2C, 0x00, 0x62], maxRecords: 10) }
        #expect(throws: CSVParser.Failure.notUTF8) { try CSVParser.parse([0x5A, 0x6F, 0xEB, 0x2C, 0x31], maxRecords: 10) }
        // UTF-16 (as some spreadsheets save "Unicode text") has NUL bytes.
        #expect(throws: CSVParser.Failure.binary) { try CSVParser.parse([0xFF, 0xFE, 0x61, 0x00], maxRecords: 10) }
    }

    @Test func recordsBeyondTheLimitAreRefused() throws {
        #expect(throws: CSVParser.Failure.tooManyRecords(limit: 2)) { try parse("a\nb\nc\n", maxRecords: 2) }
        #expect(try parse("a\nb\n\n\n", maxRecords: 2).count == 2)
    }

    @Test(arguments: [
        ("Name", ContactCSVImport.Column.name), ("Full Name", .name), ("full_name", .name), ("CONTACT", .name),
        ("First Name", .firstName), ("firstname", .firstName), ("Last-Name", .lastName), ("Surname", .lastName),
        ("Phone", .phone), ("Phone Number", .phone), ("phone_number", .phone), ("Mobile", .phone), ("Number", .phone),
        ("Tel", .phone), ("Telephone", .phone), ("Company", .company), ("Organization", .company),
        ("Organisation", .company), ("Business", .company), ("Notes", .notes), ("Note", .notes), ("Comments", .notes),
    ])
    func headerNamesAreRecognisedInAnyCase(_ cell: String, _ column: ContactCSVImport.Column) {
        #expect(ContactCSVImport.headerColumn(cell) == column)
        #expect(ContactCSVImport.headerColumn(cell.uppercased()) == column)
    }

    @Test func aFirstRowIsAHeaderOnlyWhenItNamesAColumnAndHoldsNoNumber() {
        #expect(
            ContactCSVImport.header(["Mobile", "Email", "Organisation", "Full Name", "Phone"])
                == ContactCSVImport.Layout(name: 3, phones: [0, 4], company: 2))
        #expect(ContactCSVImport.header(["Ada", "+1 415 555 0100"]) == nil)
        #expect(ContactCSVImport.header(["Contact", "+1 415 555 0100"]) == nil)
        #expect(ContactCSVImport.header(["email", "address"]) == nil)
    }

    @Test func rowsBecomeContactFieldsOrRejectionsWithTheirLines() throws {
        let text = "First Name,Last Name,Tel,Cell\nAda,Lovelace,,415 555 0100\nGrace,,123,\n,,,\nAlan,Turing,,\n"
        let parsed = try ContactCSVImport.read(Array(text.utf8), defaultCountry: PhoneNumberNormalizer.defaultCountry)
        #expect(parsed.totalRows == 3)
        #expect(parsed.rows == [ContactFields(name: "Ada Lovelace", phoneE164: "+14155550100", company: nil, notes: nil)])
        #expect(parsed.rejected.map(\.line) == [3, 5])
        #expect(parsed.rejected[0].reason.hasPrefix("invalid phone number"))
        #expect(parsed.rejected[1].reason == "the row has no phone number")
    }

    @Test func filesWithoutAPhoneColumnAreRefusedWhole() {
        for text in ["", "\n\n", "name;phone\nAda;+14155550100\n", "Name,Company\nAda,Acme\n", "Name,Phone\n"] {
            #expect(throws: ContactCSVImport.Failure.self, "\(text.debugDescription)") {
                try ContactCSVImport.read(Array(text.utf8), defaultCountry: PhoneNumberNormalizer.defaultCountry)
            }
        }
    }

    @Test func overlongValuesRejectTheRow() throws {
        let text = "name,phone,company,notes\n\(String(repeating: "é", count: 201)),+14155550100,,\n"
        let parsed = try ContactCSVImport.read(Array(text.utf8), defaultCountry: PhoneNumberNormalizer.defaultCountry)
        #expect(parsed.rejected == [ContactCSVImport.Rejection(line: 2, reason: "the name is longer than 200 characters")])
    }
}
