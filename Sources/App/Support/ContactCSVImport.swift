import Foundation
import Persistence

/// Reads a contacts CSV file into contact rows, rejecting bad rows one by one with their line.
///
/// Columns: when the first record's cells include a known header name (see `headerColumn`) and
/// none of them holds 7 or more digits (as a phone number would), it is the header and names the
/// columns, in any order; unknown columns are ignored. Otherwise there is no header and the
/// columns are name, phone, company, notes. Several phone columns are allowed: the first non-empty
/// one counts. A name is the name column, else first and last name joined by a space. Values are
/// trimmed; empty values are absent.
enum ContactCSVImport {
    /// Most data rows one file may have.
    static let maxRows = 50_000
    /// Longest values, in characters (Unicode scalars, as PostgreSQL counts them).
    static let maxNameLength = 200
    static let maxCompanyLength = 200
    static let maxNotesLength = 2_000

    /// What a header cell names.
    enum Column: Sendable, Equatable {
        case name, firstName, lastName, phone, company, notes
    }

    /// Where each value is found in a record.
    struct Layout: Sendable, Equatable {
        var name: Int?
        var firstName: Int?
        var lastName: Int?
        var phones: [Int] = []
        var company: Int?
        var notes: Int?

        /// The columns of a file without a header row.
        static let headerless = Layout(name: 0, phones: [1], company: 2, notes: 3)
    }

    /// A row left out, by its 1-based physical line in the file.
    struct Rejection: Sendable, Equatable {
        let line: Int
        let reason: String
    }

    /// The readable rows of a file (in file order, duplicates included), its rejected ones, and how
    /// many data rows it has in all (header and blank lines excluded).
    struct Parsed: Sendable, Equatable {
        var rows: [ContactFields] = []
        var rejected: [Rejection] = []
        var totalRows = 0
    }

    /// Why a body cannot be imported at all; nothing is stored.
    struct Failure: Error, Equatable, CustomStringConvertible {
        let description: String
        /// The API error code: `too_many_rows`, else `invalid_csv`.
        var code = "invalid_csv"
    }

    /// Header names, compared lowercased with everything but letters removed ("Phone_Number" is "phonenumber").
    static let headerNames: [String: Column] = [
        "name": .name, "fullname": .name, "contact": .name, "contactname": .name, "displayname": .name,
        "firstname": .firstName, "givenname": .firstName, "forename": .firstName,
        "lastname": .lastName, "surname": .lastName, "familyname": .lastName,
        "phone": .phone, "phonenumber": .phone, "phoneno": .phone, "mobile": .phone, "mobilenumber": .phone,
        "mobilephone": .phone, "number": .phone, "tel": .phone, "telephone": .phone, "telephonenumber": .phone,
        "cell": .phone, "cellphone": .phone,
        "company": .company, "companyname": .company, "organization": .company, "organisation": .company,
        "business": .company,
        "notes": .notes, "note": .notes, "comments": .notes, "comment": .notes,
    ]

    /// The column a header cell names, if it is a known header name.
    static func headerColumn(_ cell: String) -> Column? {
        headerNames[String(cell.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic }.map(Character.init))]
    }

    /// The layout a header record names; nil when the record is not a header.
    static func header(_ cells: [String]) -> Layout? {
        let columns = cells.map(headerColumn)
        guard columns.contains(where: { $0 != nil }),
            !cells.contains(where: { $0.filter { $0.isASCII && $0.isNumber }.count >= 7 })
        else { return nil }
        var layout = Layout()
        for (index, column) in columns.enumerated() {
            switch column {
            case .name: layout.name = layout.name ?? index
            case .firstName: layout.firstName = layout.firstName ?? index
            case .lastName: layout.lastName = layout.lastName ?? index
            case .phone: layout.phones.append(index)
            case .company: layout.company = layout.company ?? index
            case .notes: layout.notes = layout.notes ?? index
            case nil: break
            }
        }
        return layout
    }

    /// Reads `bytes`; national numbers are read as numbers of `country`.
    static func read(_ bytes: [UInt8], defaultCountry country: PhoneNumberNormalizer.Country) throws(Failure) -> Parsed {
        let records: [CSVParser.Record]
        do {
            records = try CSVParser.parse(bytes, maxRecords: maxRows + 1)
        } catch .tooManyRecords {
            // The parser counts the header too; the limit is on data rows.
            throw Failure(description: CSVParser.Failure.tooManyRecords(limit: maxRows).description, code: "too_many_rows")
        } catch {
            throw Failure(description: error.description)
        }
        guard let first = records.first else { throw Failure(description: "the file has no rows") }
        let headerLayout = first.problem == nil ? header(first.fields) : nil
        let layout = headerLayout ?? .headerless
        let dataRecords = headerLayout == nil ? records[...] : records.dropFirst()
        if headerLayout != nil && layout.phones.isEmpty {
            throw Failure(
                description: "the header row names no phone column; name one phone, phone number, mobile, number, tel or telephone")
        }
        guard !dataRecords.isEmpty else { throw Failure(description: "the file has a header row but no contact rows") }
        guard dataRecords.count <= maxRows else {
            throw Failure(description: CSVParser.Failure.tooManyRecords(limit: maxRows).description, code: "too_many_rows")
        }
        let phoneColumn = layout.phones.min() ?? 1
        guard dataRecords.contains(where: { $0.fields.count > phoneColumn }) else {
            throw Failure(
                description:
                    "no row has a phone column: without a header row the columns are name, phone, company, notes, separated by commas")
        }
        var parsed = Parsed(totalRows: dataRecords.count)
        for record in dataRecords {
            switch row(record, layout: layout, country: country) {
            case .success(let fields): parsed.rows.append(fields)
            case .failure(let rejection): parsed.rejected.append(rejection)
            }
        }
        return parsed
    }

    /// One data record as contact values, or why it is rejected.
    static func row(_ record: CSVParser.Record, layout: Layout, country: PhoneNumberNormalizer.Country)
        -> Result<ContactFields, Rejection>
    {
        func reject(_ reason: String) -> Result<ContactFields, Rejection> {
            .failure(Rejection(line: record.line, reason: reason))
        }
        func value(_ index: Int?) -> String? {
            guard let index, index < record.fields.count else { return nil }
            let value = record.fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
            return value.isEmpty ? nil : value
        }
        if let problem = record.problem { return reject(problem) }
        guard let raw = layout.phones.lazy.compactMap({ value($0) }).first else { return reject("the row has no phone number") }
        let phone: String
        do {
            phone = try PhoneNumberNormalizer.normalize(raw, defaultCountry: country)
        } catch {
            return reject("invalid phone number: \(error.description)")
        }
        let name = value(layout.name) ?? [value(layout.firstName), value(layout.lastName)].compactMap { $0 }
            .joined(separator: " ")
        let fields = ContactFields(
            name: name.isEmpty ? nil : name, phoneE164: phone, company: value(layout.company), notes: value(layout.notes))
        for (label, text, limit) in [
            ("name", fields.name, maxNameLength), ("company", fields.company, maxCompanyLength),
            ("notes", fields.notes, maxNotesLength),
        ] {
            if let text, text.unicodeScalars.count > limit {
                return reject("the \(label) is longer than \(limit) characters")
            }
        }
        return .success(fields)
    }
}

extension ContactCSVImport.Rejection: Error {}
