/// Reads typed values out of a document after its schema has validated and normalized it.
struct ValidatedDocument {
    private let values: [String: JSONValue]

    /// Validates `document` against the schema of `key`.
    init(_ document: [String: JSONValue], key: ConfigurationKey) throws(ConfigurationValidationError) {
        values = try ConfigurationSchema.forKey(key).validate(document)
    }

    /// The string in a required field.
    func requiredString(_ field: String) throws(ConfigurationValidationError) -> String {
        // Validation already guarantees the field; throwing keeps a schema/view mismatch from crashing.
        guard let value = values[field]?.stringValue else {
            throw ConfigurationValidationError(field: field, problem: "is required")
        }
        return value
    }

    /// The string in an optional field, nil when absent.
    func optionalString(_ field: String) -> String? {
        values[field]?.stringValue
    }

    /// The strings in a required array-of-strings field.
    func requiredStrings(_ field: String) throws(ConfigurationValidationError) -> [String] {
        guard let items = values[field]?.arrayValue else {
            throw ConfigurationValidationError(field: field, problem: "is required")
        }
        return items.compactMap(\.stringValue)
    }
}
