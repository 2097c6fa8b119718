/// One problem with one field of a document.
public struct FieldError: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The field at fault, such as `account_sid` or `from_numbers[2]`; empty when the problem concerns the whole document.
    public var field: String
    /// A short lowercase sentence a user can act on; never contains the submitted value.
    public var problem: String

    /// Creates a problem report for one field.
    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    /// The field and its problem, as in `account_sid: is required`.
    public var description: String {
        field.isEmpty ? problem : "\(field): \(problem)"
    }
}

extension FieldError {
    /// Sorts by field name, with array items in index order (`from_numbers[2]` before `from_numbers[10]`).
    static func sortedForDisplay(_ errors: [FieldError]) -> [FieldError] {
        errors.enumerated()
            .sorted { left, right in
                let leftKey = FieldSortKey(left.element.field)
                let rightKey = FieldSortKey(right.element.field)
                if leftKey.name != rightKey.name { return leftKey.name < rightKey.name }
                if leftKey.index != rightKey.index { return leftKey.index < rightKey.index }
                // Keeps the order in which problems were found for the same field.
                return left.offset < right.offset
            }
            .map(\.element)
    }
}

/// A field name split into its base name and optional array index, for ordering.
private struct FieldSortKey {
    let name: String
    let index: Int

    init(_ field: String) {
        if field.hasSuffix("]"),
            let open = field.lastIndex(of: "["),
            let index = Int(field[field.index(after: open)..<field.index(before: field.endIndex)])
        {
            self.name = String(field[..<open])
            self.index = index
        } else {
            self.name = field
            self.index = -1
        }
    }
}
