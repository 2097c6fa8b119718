import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/api/v1/contacts`: the key's own organization's contacts (admin or service key): CSV import,
/// search and pagination, read, edit, delete.
struct ContactController {
    let contacts: ContactStore

    /// A PATCH body: each field absent (unchanged), null (cleared; not allowed for `phone`) or a value.
    struct UpdateRequest: StrictRequestBody {
        static let fields: Set<String> = ["name", "phone", "company", "notes", "default_country"]
        let name: String??
        let phone: String??
        let company: String??
        let notes: String??
        /// The country a national `phone` is read for (ISO 3166-1 alpha-2; US when absent).
        let defaultCountry: String?

        enum CodingKeys: String, CodingKey {
            case name, phone, company, notes
            case defaultCountry = "default_country"
        }

        /// Decodes each field keeping "absent" apart from "null".
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func field(_ key: CodingKeys) throws -> String?? {
                guard container.contains(key) else { return nil }
                return .some(try container.decodeIfPresent(String.self, forKey: key))
            }
            name = try field(.name)
            phone = try field(.phone)
            company = try field(.company)
            notes = try field(.notes)
            defaultCountry = try container.decodeIfPresent(String.self, forKey: .defaultCountry)
        }
    }

    /// A contact as the API shows it; empty fields are omitted.
    struct ContactResponse: ResponseEncodable {
        let id: String
        let name: String?
        let phone: String
        let company: String?
        let notes: String?
        let createdAt: Date
        let updatedAt: Date

        init(_ contact: Contact) {
            id = contact.id.lowercasedString
            name = contact.name
            phone = contact.phoneE164
            company = contact.company
            notes = contact.notes
            createdAt = contact.createdAt
            updatedAt = contact.updatedAt
        }

        enum CodingKeys: String, CodingKey {
            case id, name, phone, company, notes
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }

    /// A page of contacts.
    struct ListResponse: ResponseEncodable {
        let contacts: [ContactResponse]
        let nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case contacts
            case nextCursor = "next_cursor"
        }
    }

    /// What an import did; `imported + merged + rejected.count == total_rows`.
    struct ImportResponse: ResponseEncodable {
        /// A rejected row: its 1-based physical line in the file and why.
        struct RejectedRow: Encodable {
            let line: Int
            let reason: String
        }
        let imported: Int
        let merged: Int
        let rejected: [RejectedRow]
        let totalRows: Int

        enum CodingKeys: String, CodingKey {
            case imported, merged, rejected
            case totalRows = "total_rows"
        }
    }

    /// Registers the contact routes on the authenticated `/api/v1` group.
    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("/contacts/import") { request, context in
            var request = request
            let organizationID = try TelephonyController.organizationID(context, action: "import contacts")
            let country = try Self.country(request.uri.queryParameters.get("default_country"), code: "invalid_query")
            try Self.requireCSV(request.headers[.contentType])
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: RequestLimits.contactImportBodySize)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw APIError.payloadTooLarge(limit: RequestLimits.contactImportBodySize)
            }
            let parsed: ContactCSVImport.Parsed
            do {
                parsed = try ContactCSVImport.read(Array(buffer.readableBytesView), defaultCountry: country)
            } catch let error as ContactCSVImport.Failure {
                throw APIError.badRequest(error.code, error.description)
            }
            let outcome = try await contacts.importContacts(
                organizationID: organizationID, rows: parsed.rows, totalRows: parsed.totalRows,
                rejected: parsed.rejected.count, actor: context.actor, logger: context.logger)
            return ImportResponse(
                imported: outcome.imported, merged: outcome.merged,
                rejected: parsed.rejected.map { ImportResponse.RejectedRow(line: $0.line, reason: $0.reason) },
                totalRows: parsed.totalRows)
        }
        group.get("/contacts") { request, context in
            let organizationID = try TelephonyController.organizationID(context, action: "read contacts")
            let page = try Page(request: request)
            let search = try Self.search(request.uri.queryParameters.get("search"))
            let cursor = try page.cursor.map(Self.decodeCursor)
            let found = try await contacts.list(
                organizationID: organizationID, search: search, after: cursor, limit: page.limit + 1, logger: context.logger)
            let items = Array(found.prefix(page.limit))
            return ListResponse(
                contacts: items.map(ContactResponse.init),
                nextCursor: found.count > page.limit ? items.last.map(Self.encodeCursor) : nil)
        }
        group.get("/contacts/:id") { _, context in
            let organizationID = try TelephonyController.organizationID(context, action: "read contacts")
            let id = try Self.contactID(context)
            guard let contact = try await contacts.get(organizationID: organizationID, id: id, logger: context.logger) else {
                throw Self.notFound
            }
            return ContactResponse(contact)
        }
        group.patch("/contacts/:id") { request, context in
            var request = request
            let organizationID = try TelephonyController.organizationID(context, action: "edit contacts")
            let id = try Self.contactID(context)
            let body = try await request.decodeStrict(UpdateRequest.self, context: context)
            let changes = try Self.changes(body)
            let updated: Contact?
            if changes == ContactChanges() {
                updated = try await contacts.get(organizationID: organizationID, id: id, logger: context.logger)
            } else {
                do {
                    updated = try await contacts.update(
                        organizationID: organizationID, id: id, changes: changes, actor: context.actor,
                        logger: context.logger)
                } catch PersistenceError.duplicate {
                    throw APIError.conflict(
                        "phone_number_taken", "another contact of this organization has the phone number \(changes.phoneE164 ?? "")")
                }
            }
            guard let updated else { throw Self.notFound }
            return ContactResponse(updated)
        }
        group.delete("/contacts/:id") { _, context in
            let organizationID = try TelephonyController.organizationID(context, action: "delete contacts")
            let id = try Self.contactID(context)
            guard try await contacts.delete(organizationID: organizationID, id: id, actor: context.actor, logger: context.logger)
            else { throw Self.notFound }
            return Response(status: .noContent)
        }
    }

    /// The same answer for a missing contact and another organization's.
    static let notFound = APIError.notFound("contact_not_found", "no such contact in this organization")

    /// The path's contact id; a malformed one is simply not found.
    static func contactID(_ context: AppRequestContext) throws(APIError) -> UUID {
        guard let id = UUID(uuidString: try context.pathParameter("id")) else { throw notFound }
        return id
    }

    /// The country national numbers are read for: `code` (any case), or US when absent.
    static func country(_ code: String?, code errorCode: String) throws(APIError) -> PhoneNumberNormalizer.Country {
        guard let code else { return PhoneNumberNormalizer.defaultCountry }
        guard let country = PhoneNumberNormalizer.country(code) else {
            throw APIError.badRequest(
                errorCode, "'default_country' must be one of \(PhoneNumberNormalizer.supportedCountryCodes)")
        }
        return country
    }

    /// Imports take CSV (`text/csv`, `application/csv` or `text/plain`) in UTF-8; a body with no
    /// Content-Type is read as CSV too.
    static func requireCSV(_ contentType: String?) throws(APIError) {
        guard let contentType else { return }
        let parts = contentType.lowercased().split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let charset = parts.dropFirst().first { $0.hasPrefix("charset=") }?.dropFirst("charset=".count)
            .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let media = parts.first, ["text/csv", "application/csv", "text/plain"].contains(media),
            charset.map({ ["utf-8", "utf8", "us-ascii"].contains($0) }) ?? true
        else {
            throw APIError(
                status: .unsupportedMediaType, code: "unsupported_media_type", message: "send the body as text/csv in UTF-8")
        }
    }

    /// The `search` query: trimmed, 1-200 characters; its digits also search phone numbers when it
    /// is shaped like a number (digits, a leading +, spaces, dashes, dots, slashes, parentheses).
    static func search(_ raw: String?) throws(APIError) -> ContactSearch? {
        guard let text = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        guard text.unicodeScalars.count <= 200, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw APIError.badRequest("invalid_query", "'search' must be 1-200 characters without control characters")
        }
        let isNumberLike = text.allSatisfy { ($0.isASCII && $0.isNumber) || $0.isWhitespace || "+-./()".contains($0) }
        let digits = text.filter { $0.isASCII && $0.isNumber }
        return ContactSearch(text: text, digits: isNumberLike && !digits.isEmpty ? digits : nil)
    }

    /// The changes a PATCH body asks for, validated: text fields are trimmed and an empty one is
    /// cleared; `phone` is normalised to E.164 and cannot be cleared.
    static func changes(_ body: UpdateRequest) throws(APIError) -> ContactChanges {
        var changes = ContactChanges()
        changes.name = try text(body.name, field: "name", limit: ContactCSVImport.maxNameLength)
        changes.company = try text(body.company, field: "company", limit: ContactCSVImport.maxCompanyLength)
        changes.notes = try text(body.notes, field: "notes", limit: ContactCSVImport.maxNotesLength)
        let country = try country(body.defaultCountry, code: "invalid_field")
        switch body.phone {
        case nil:
            break
        case .some(nil):
            throw APIError.badRequest("invalid_field", "'phone' cannot be removed; delete the contact instead")
        case .some(.some(let phone)):
            do {
                changes.phoneE164 = try PhoneNumberNormalizer.normalize(phone, defaultCountry: country)
            } catch {
                throw APIError.badRequest("invalid_phone_number", "'phone': \(error.description)")
            }
        }
        return changes
    }

    /// One optional text field of a PATCH: absent stays absent, null or blank clears, else the trimmed value.
    static func text(_ value: String??, field: String, limit: Int) throws(APIError) -> String?? {
        guard let value else { return nil }
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return .some(nil) }
        guard value.unicodeScalars.count <= limit, !value.unicodeScalars.contains("\u{0}") else {
            throw APIError.badRequest("invalid_field", "'\(field)' must be at most \(limit) characters, without NUL")
        }
        return .some(value)
    }

    /// `{created_at in microseconds since 1970}_{id}` of the last contact of a page.
    static func encodeCursor(_ contact: Contact) -> String {
        "\(Int64((contact.createdAt.timeIntervalSince1970 * 1_000_000).rounded()))_\(contact.id.lowercasedString)"
    }

    /// The position a `next_cursor` names; 400 when it is not one.
    static func decodeCursor(_ cursor: String) throws(APIError) -> (micros: Int64, id: UUID) {
        let parts = cursor.split(separator: "_")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            throw APIError.badRequest("invalid_query", "'cursor' must be a next_cursor from a previous page")
        }
        return (micros, id)
    }
}
