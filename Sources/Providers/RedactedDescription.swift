/// Builds log-safe descriptions of provider configurations, with secrets replaced by a placeholder.
struct RedactedDescription {
    /// What a secret is shown as.
    static let placeholder = "<redacted>"

    private let typeName: String
    private var renderedFields: [String] = []

    init(_ typeName: String) {
        self.typeName = typeName
    }

    /// Adds a field shown as its quoted value.
    func field(_ label: String, _ value: String) -> RedactedDescription {
        adding(label, String(reflecting: value))
    }

    /// Adds an optional field shown as its quoted value or `nil`.
    func field(_ label: String, _ value: String?) -> RedactedDescription {
        adding(label, value.map { String(reflecting: $0) } ?? "nil")
    }

    /// Adds a list field shown as its quoted values.
    func field(_ label: String, _ values: [String]) -> RedactedDescription {
        adding(label, String(reflecting: values))
    }

    /// Adds a secret field, shown only as the placeholder.
    func secret(_ label: String) -> RedactedDescription {
        adding(label, Self.placeholder)
    }

    /// Adds an optional secret field, shown as the placeholder or `nil`; whether it is set is not secret.
    func optionalSecret(_ label: String, isSet: Bool) -> RedactedDescription {
        adding(label, isSet ? Self.placeholder : "nil")
    }

    /// The finished description, as in `TypeName(label: value, …)`.
    var text: String {
        "\(typeName)(\(renderedFields.joined(separator: ", ")))"
    }

    private func adding(_ label: String, _ rendering: String) -> RedactedDescription {
        var copy = self
        copy.renderedFields.append("\(label): \(rendering)")
        return copy
    }
}
