import Foundation

/// A person an organization can call, identified within it by their E.164 phone number.
public struct Contact: Sendable, Equatable {
    public let organizationID: UUID
    public let id: UUID
    public let name: String?
    /// `+` and 7 to 15 digits; unique within the organization.
    public let phoneE164: String
    public let company: String?
    public let notes: String?
    public let createdAt: Date
    public let updatedAt: Date
}

/// A contact's values as an import row or a new contact carries them: absent fields are nil, never "".
public struct ContactFields: Sendable, Equatable {
    public var name: String?
    public var phoneE164: String
    public var company: String?
    public var notes: String?

    public init(name: String?, phoneE164: String, company: String?, notes: String?) {
        self.name = name
        self.phoneE164 = phoneE164
        self.company = company
        self.notes = notes
    }

    /// The merge rule of imports, for a row whose phone number is already known (stored, or on an
    /// earlier row of the file): the first non-empty value of each field wins. `self` is the earlier
    /// (or stored) contact: its values are kept, and only its empty fields are filled from `later`.
    /// A non-empty value is never replaced, neither by an empty one nor by a different one.
    public func filled(from later: ContactFields) -> ContactFields {
        ContactFields(
            name: name ?? later.name, phoneE164: phoneE164, company: company ?? later.company,
            notes: notes ?? later.notes)
    }

    /// Rows merged by phone number with `filled(from:)`, in the order each number first appears,
    /// with how many rows were folded into an earlier one.
    public static func mergedByPhone(_ rows: [ContactFields]) -> (rows: [ContactFields], duplicates: Int) {
        var merged: [ContactFields] = []
        var position: [String: Int] = [:]
        for row in rows {
            if let index = position[row.phoneE164] {
                merged[index] = merged[index].filled(from: row)
            } else {
                position[row.phoneE164] = merged.count
                merged.append(row)
            }
        }
        return (merged, rows.count - merged.count)
    }
}

/// A partial update of a contact: nil leaves a field as it is; `.some(nil)` clears an optional one.
public struct ContactChanges: Sendable, Equatable {
    public var name: String??
    public var phoneE164: String?
    public var company: String??
    public var notes: String??

    public init(name: String?? = nil, phoneE164: String? = nil, company: String?? = nil, notes: String?? = nil) {
        self.name = name
        self.phoneE164 = phoneE164
        self.company = company
        self.notes = notes
    }

    /// The names of the fields this update touches, for the audit log (never their values).
    public var fieldNames: [String] {
        [("name", name != nil), ("phone", phoneE164 != nil), ("company", company != nil), ("notes", notes != nil)]
            .filter(\.1).map(\.0)
    }
}

/// What an import did: `imported` new contacts, `merged` rows folded into an existing contact
/// (stored before, or earlier in the same file).
public struct ContactImportOutcome: Sendable, Equatable {
    public let imported: Int
    public let merged: Int

    public init(imported: Int, merged: Int) {
        self.imported = imported
        self.merged = merged
    }
}

/// A listing filter: a case-insensitive substring of the name, or digits within the phone number.
public struct ContactSearch: Sendable, Equatable {
    /// Matched against the name, case-insensitively.
    public let text: String
    /// Matched against the phone number's digits; nil when the search is not shaped like a number.
    public let digits: String?

    public init(text: String, digits: String?) {
        self.text = text
        self.digits = digits
    }
}
