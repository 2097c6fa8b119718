/// A document failed validation; lists every problem, never a field's value.
public struct ConfigurationValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every problem found, sorted by field name.
    public var errors: [FieldError]

    /// Creates an error listing the given problems, sorted by field name.
    public init(errors: [FieldError]) {
        self.errors = FieldError.sortedForDisplay(errors)
    }

    /// Creates an error with a single problem.
    public init(field: String, problem: String) {
        self.init(errors: [FieldError(field: field, problem: problem)])
    }

    /// All problems on one line, as in `invalid configuration: account_sid: is required; auth_token: is required`.
    public var description: String {
        "invalid configuration: " + errors.map(\.description).joined(separator: "; ")
    }
}
