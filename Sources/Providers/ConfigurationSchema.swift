import Foundation

/// What one configuration key's document looks like.
public struct ConfigurationSchema: Sendable {
    /// One field a document of this schema may contain.
    struct Field: Sendable {
        let name: String
        let isRequired: Bool
        let isSecret: Bool
        let rule: FieldRule

        init(_ name: String, required isRequired: Bool = true, secret isSecret: Bool = false, rule: FieldRule) {
            self.name = name
            self.isRequired = isRequired
            self.isSecret = isSecret
            self.rule = rule
        }
    }

    /// A rule spanning several fields, run on the fields that are present and not null.
    typealias CrossFieldRule = @Sendable (_ presentFields: [String: JSONValue]) -> [FieldError]

    /// The configuration key whose documents this schema describes.
    public let key: ConfigurationKey
    let fields: [Field]
    let crossFieldRules: [CrossFieldRule]

    init(key: ConfigurationKey, fields: [Field], crossFieldRules: [CrossFieldRule] = []) {
        self.key = key
        self.fields = fields
        self.crossFieldRules = crossFieldRules
    }

    /// The schema for documents stored under `key`.
    public static func forKey(_ key: ConfigurationKey) -> ConfigurationSchema {
        switch key {
        case .twilio: twilio
        case .telnyx: telnyx
        case .vonage: vonage
        case .plivo: plivo
        case .telephonyProvider: telephonyProvider
        case .callPolicy: callPolicy
        case .odoo: odoo
        case .recordingPolicy: recordingPolicy
        }
    }

    /// Every field a document may contain, in the order the schema declares them.
    public var fieldNames: [String] {
        fields.map(\.name)
    }

    /// The fields that hold secrets: masked for display, restorable from their mask, rotatable.
    public var secretFieldNames: Set<String> {
        Set(fields.filter(\.isSecret).map(\.name))
    }

    /// The fields a document must contain.
    public var requiredFieldNames: Set<String> {
        Set(fields.filter(\.isRequired).map(\.name))
    }

    /// Validates a whole document and returns it normalized, or throws listing every problem found.
    ///
    /// Problems cover unknown fields, missing required fields, wrong JSON types, bad formats, cross-field rules and
    /// secrets given as a mask (starting with "****"), sorted by field name; they never contain a submitted value.
    /// Normalization trims surrounding whitespace from every string (secrets included), lowercases UUIDs and provider
    /// names, ends PEM keys with one newline, and drops optional fields given as `null` (a `null` required field
    /// counts as missing).
    public func validate(_ document: [String: JSONValue]) throws(ConfigurationValidationError) -> [String: JSONValue] {
        var problems: [FieldError] = []
        var normalized: [String: JSONValue] = [:]
        let knownNames = Set(fieldNames)
        for name in document.keys where !knownNames.contains(name) {
            problems.append(FieldError(field: name, problem: "is not a known field"))
        }
        for field in fields {
            guard let value = document[field.name], value != .null else {
                if field.isRequired {
                    problems.append(FieldError(field: field.name, problem: "is required"))
                }
                continue
            }
            // A mask that was not restored (the stored secret changed, or there is none) would otherwise be
            // saved as the credential itself and only fail later, at the provider.
            if field.isSecret, case .string(let secret) = value,
                secret.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(SecretMask.prefix)
            {
                problems.append(FieldError(field: field.name, problem: "must be the secret itself, not its mask"))
                continue
            }
            switch field.rule.check(value, field.name) {
            case .accepted(let normalizedValue):
                normalized[field.name] = normalizedValue
            case .rejected(let fieldProblems):
                problems.append(contentsOf: fieldProblems)
            }
        }
        let presentFields = document.filter { knownNames.contains($0.key) && $0.value != .null }
        for rule in crossFieldRules {
            problems.append(contentsOf: rule(presentFields))
        }
        guard problems.isEmpty else {
            throw ConfigurationValidationError(errors: problems)
        }
        return normalized
    }

    /// A copy safe to show: each secret field replaced by its mask (see ``SecretMask/mask(_:)``).
    ///
    /// A secret field holding something other than a string is replaced by the bare mask prefix; `null` stays `null`.
    public func masked(_ document: [String: JSONValue]) -> [String: JSONValue] {
        var result = document
        for name in secretFieldNames {
            switch document[name] {
            case .none, .null?:
                continue
            case .string(let secret)?:
                result[name] = .string(SecretMask.mask(secret))
            case _?:
                result[name] = .string(SecretMask.prefix)
            }
        }
        return result
    }

    /// For an update: every secret field in `incoming` whose value is exactly the mask of the stored value is replaced
    /// by the stored value, so clients can PUT back what they GET; other fields are untouched and `stored` nil changes nothing.
    public func restoringMaskedSecrets(
        in incoming: [String: JSONValue],
        from stored: [String: JSONValue]?
    ) -> [String: JSONValue] {
        guard let stored else { return incoming }
        var result = incoming
        for name in secretFieldNames {
            guard case .string(let submitted)? = incoming[name],
                case .string(let storedSecret)? = stored[name],
                submitted == SecretMask.mask(storedSecret)
            else { continue }
            result[name] = .string(storedSecret)
        }
        return result
    }

    /// For a rotation: replaces secret fields of `current` with `newSecrets` and validates the result as a whole.
    ///
    /// `newSecrets` must name at least one field and only secret fields of this schema; otherwise the error names
    /// each offending field, or reports "no secret fields given" against the whole document (empty field name).
    public func applyingRotation(
        _ newSecrets: [String: JSONValue],
        to current: [String: JSONValue]
    ) throws(ConfigurationValidationError) -> [String: JSONValue] {
        guard !newSecrets.isEmpty else {
            throw ConfigurationValidationError(field: "", problem: "no secret fields given")
        }
        let secretNames = secretFieldNames
        let knownNames = Set(fieldNames)
        let refusals = newSecrets.keys.filter { !secretNames.contains($0) }.map { name in
            knownNames.contains(name)
                ? FieldError(field: name, problem: "is not a secret field and cannot be rotated; change it with an update")
                : FieldError(field: name, problem: "is not a known field")
        }
        guard refusals.isEmpty else {
            throw ConfigurationValidationError(errors: refusals)
        }
        return try validate(current.merging(newSecrets) { _, newSecret in newSecret })
    }
}

extension ConfigurationSchema {
    /// A cross-field rule: when either field is present, the other must be too.
    static func requiredTogether(_ first: String, _ second: String) -> CrossFieldRule {
        { presentFields in
            switch (presentFields[first] != nil, presentFields[second] != nil) {
            case (true, false):
                [FieldError(field: second, problem: "is required when \(first) is given")]
            case (false, true):
                [FieldError(field: first, problem: "is required when \(second) is given")]
            default:
                []
            }
        }
    }
}
