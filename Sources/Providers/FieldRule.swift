import Foundation
import _CryptoExtras

/// What checking one field's value produced: the normalized value, or every problem found.
enum FieldOutcome: Sendable {
    case accepted(JSONValue)
    case rejected([FieldError])
}

/// What checking one trimmed string produced: the normalized string, or every problem found.
enum StringOutcome: Sendable {
    case accepted(String)
    case rejected([String])
}

/// How one field's present, non-null value is checked and normalized.
///
/// Problems never quote the value, because the value may be a secret.
struct FieldRule: Sendable {
    /// Checks `value`, reporting problems under `field` (or under `field[index]` for array items).
    let check: @Sendable (_ value: JSONValue, _ field: String) -> FieldOutcome
}

extension FieldRule {
    /// The most phone numbers one configuration may list.
    static let maximumPhoneNumberCount = 100

    /// A JSON string, trimmed of surrounding whitespace (secrets too) and then checked by `checkTrimmed`.
    static func string(_ checkTrimmed: @escaping @Sendable (String) -> StringOutcome) -> FieldRule {
        FieldRule { value, field in
            guard case .string(let raw) = value else {
                return .rejected([FieldError(field: field, problem: "must be a string")])
            }
            switch checkTrimmed(raw.trimmingCharacters(in: .whitespacesAndNewlines)) {
            case .accepted(let normalized):
                return .accepted(.string(normalized))
            case .rejected(let problems):
                return .rejected(problems.map { FieldError(field: field, problem: $0) })
            }
        }
    }

    /// A provider identifier: `prefix` followed by exactly `hexadecimalCount` hexadecimal characters, e.g. a Twilio SID.
    static func prefixedHexadecimal(prefix: String, hexadecimalCount: Int) -> FieldRule {
        string { text in
            let bytes = Array(text.utf8)
            let prefixBytes = Array(prefix.utf8)
            let isValid = bytes.count == prefixBytes.count + hexadecimalCount
                && bytes.starts(with: prefixBytes)
                && bytes.dropFirst(prefixBytes.count).allSatisfy(\.isASCIIHexadecimalDigit)
            return isValid
                ? .accepted(text)
                : .rejected(["must be \(prefix) followed by \(hexadecimalCount) hexadecimal characters"])
        }
    }

    /// Exactly `count` hexadecimal characters, e.g. a Twilio auth token.
    static func hexadecimal(count: Int) -> FieldRule {
        string { text in
            let bytes = Array(text.utf8)
            let isValid = bytes.count == count && bytes.allSatisfy(\.isASCIIHexadecimalDigit)
            return isValid ? .accepted(text) : .rejected(["must be \(count) hexadecimal characters"])
        }
    }

    /// Free-form text such as a password or API secret: non-empty, at most `maximumLength` characters,
    /// and, unless `allowsWhitespace`, without any whitespace inside.
    static func text(maximumLength: Int, allowsWhitespace: Bool = true) -> FieldRule {
        string { text in
            guard !text.isEmpty else { return .rejected(["must not be empty"]) }
            var problems: [String] = []
            if text.count > maximumLength {
                problems.append("must be at most \(maximumLength) characters")
            }
            if !allowsWhitespace, text.contains(where: \.isWhitespace) {
                problems.append("must not contain whitespace")
            }
            return problems.isEmpty ? .accepted(text) : .rejected(problems)
        }
    }

    /// An identifier of 1 to `maximumLength` ASCII letters, digits, underscores and hyphens, e.g. a Telnyx connection id.
    static func identifier(maximumLength: Int) -> FieldRule {
        string { text in
            guard !text.isEmpty else { return .rejected(["must not be empty"]) }
            var problems: [String] = []
            if text.count > maximumLength {
                problems.append("must be at most \(maximumLength) characters")
            }
            if !text.utf8.allSatisfy({ $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) {
                problems.append("must contain only letters, digits, underscores and hyphens")
            }
            return problems.isEmpty ? .accepted(text) : .rejected(problems)
        }
    }

    /// 1 to `maximumLength` ASCII letters or digits, e.g. a Vonage API key.
    static func alphanumeric(maximumLength: Int) -> FieldRule {
        string { text in
            let isValid = (1...maximumLength).contains(text.utf8.count) && text.utf8.allSatisfy(\.isASCIILetterOrDigit)
            return isValid ? .accepted(text) : .rejected(["must be 1 to \(maximumLength) letters or digits"])
        }
    }

    /// A UUID in its usual hyphenated form, normalized to lowercase.
    static let uuid = string { text in
        guard let uuid = UUID(uuidString: text) else {
            return .rejected(["must be a UUID such as 123e4567-e89b-12d3-a456-426614174000"])
        }
        return .accepted(uuid.uuidString.lowercased())
    }

    /// An Ed25519 public key as standard base64 of its 32 raw bytes.
    static let ed25519PublicKey = string { text in
        guard let rawKey = Data(base64Encoded: text) else {
            return .rejected(["must be a base64-encoded Ed25519 public key"])
        }
        guard rawKey.count == 32 else {
            return .rejected(["must decode to exactly 32 bytes (an Ed25519 public key)"])
        }
        do {
            _ = try Curve25519.Signing.PublicKey(rawRepresentation: rawKey)
        } catch {
            return .rejected(["must be a valid Ed25519 public key"])
        }
        return .accepted(text)
    }

    /// An unencrypted PEM RSA private key of at least 2048 bits, PKCS#1 or PKCS#8, normalized to end with one newline.
    static let rsaPrivateKeyPEM = string { text in
        // Encrypted keys are refused by name, so the user learns to export without a passphrase
        // rather than being told the key is not a key.
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED") {
            return .rejected(["must not be encrypted; export the private key without a passphrase"])
        }
        guard text.contains("-----BEGIN RSA PRIVATE KEY-----") || text.contains("-----BEGIN PRIVATE KEY-----") else {
            return .rejected(["must be a PEM-encoded RSA private key starting with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----"])
        }
        do {
            _ = try _RSA.Signing.PrivateKey(pemRepresentation: text)
            // Trimming took away the final newline that PEM files end with and some PEM readers insist on.
            return .accepted(text + "\n")
        } catch {
            // The unsafe initializer accepts 1024-bit keys, which tells a short key apart from a malformed one.
            if (try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: text)) != nil {
                return .rejected(["must be an RSA private key of at least 2048 bits"])
            }
            return .rejected(["must be a valid PEM-encoded RSA private key"])
        }
    }

    /// One of `values`, exactly.
    static func oneOf(_ values: [String]) -> FieldRule {
        string { text in
            values.contains(text) ? .accepted(text) : .rejected(["must be one of \(values.joined(separator: ", "))"])
        }
    }

    /// The name of a telephony provider, accepted in any letter case and normalized to lowercase.
    static let providerName = string { text in
        guard let provider = ProviderName(rawValue: text.lowercased()) else {
            let names = ProviderName.allCases.map(\.rawValue).joined(separator: ", ")
            return .rejected(["must be one of \(names)"])
        }
        return .accepted(provider.rawValue)
    }

    /// A non-empty array of distinct E.164 phone numbers, at most `maximumPhoneNumberCount` of them.
    static let phoneNumbers = FieldRule { value, field in
        guard case .array(let items) = value else {
            return .rejected([FieldError(field: field, problem: "must be an array of E.164 phone numbers")])
        }
        guard !items.isEmpty else {
            return .rejected([FieldError(field: field, problem: "must contain at least one phone number")])
        }
        // Items of an oversized list are not checked one by one, to keep the error list short.
        guard items.count <= maximumPhoneNumberCount else {
            return .rejected([FieldError(field: field, problem: "must contain at most \(maximumPhoneNumberCount) phone numbers")])
        }
        var problems: [FieldError] = []
        var numbers: [JSONValue] = []
        var firstIndexOfNumber: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let itemField = "\(field)[\(index)]"
            guard case .string(let raw) = item else {
                problems.append(FieldError(field: itemField, problem: "must be a string"))
                continue
            }
            let number = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard isE164PhoneNumber(number) else {
                problems.append(FieldError(field: itemField, problem: "must be an E.164 phone number such as +14155550100"))
                continue
            }
            if let firstIndex = firstIndexOfNumber[number] {
                problems.append(FieldError(field: itemField, problem: "duplicates \(field)[\(firstIndex)]"))
                continue
            }
            firstIndexOfNumber[number] = index
            numbers.append(.string(number))
        }
        return problems.isEmpty ? .accepted(.array(numbers)) : .rejected(problems)
    }

    /// A whole number in `range` (JSON has one number type: 3.0 is 3, 3.5 is not whole).
    static func integer(_ range: ClosedRange<Int>) -> FieldRule {
        FieldRule { value, field in
            guard case .number(let number) = value, number.rounded() == number,
                Double(range.lowerBound) <= number, number <= Double(range.upperBound)
            else {
                return .rejected([FieldError(field: field, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")])
            }
            return .accepted(.number(number))
        }
    }

    /// The most destination prefixes a call policy may list.
    static let maximumPrefixCount = 300

    /// A non-empty array of distinct E.164 prefixes (`+`, a non-zero digit, up to 14 more digits).
    static let destinationPrefixes = FieldRule { value, field in
        guard case .array(let items) = value, !items.isEmpty, items.count <= maximumPrefixCount else {
            return .rejected([
                FieldError(field: field, problem: "must be an array of 1 to \(maximumPrefixCount) prefixes such as \"+1\" or \"+4420\"")
            ])
        }
        var problems: [FieldError] = []
        var prefixes: [JSONValue] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let itemField = "\(field)[\(index)]"
            guard case .string(let raw) = item else {
                problems.append(FieldError(field: itemField, problem: "must be a string"))
                continue
            }
            let prefix = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let bytes = Array(prefix.utf8)
            guard (2...16).contains(bytes.count), bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0"),
                bytes.dropFirst().allSatisfy(\.isASCIIDigit)
            else {
                problems.append(FieldError(field: itemField, problem: "must be + followed by 1 to 15 digits, such as +1 or +4420"))
                continue
            }
            guard seen.insert(prefix).inserted else {
                problems.append(FieldError(field: itemField, problem: "is listed twice"))
                continue
            }
            prefixes.append(.string(prefix))
        }
        return problems.isEmpty ? .accepted(.array(prefixes)) : .rejected(problems)
    }

    /// Whether `number` matches `^\+[1-9][0-9]{6,14}$`.
    static func isE164PhoneNumber(_ number: String) -> Bool {
        let bytes = Array(number.utf8)
        guard (8...16).contains(bytes.count), bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0") else {
            return false
        }
        return bytes.dropFirst().allSatisfy(\.isASCIIDigit)
    }
}

extension UInt8 {
    /// Whether this byte is an ASCII `0`–`9`.
    var isASCIIDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }

    /// Whether this byte is an ASCII letter or digit.
    var isASCIILetterOrDigit: Bool {
        isASCIIDigit
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
    }

    /// Whether this byte is an ASCII hexadecimal digit, in either case.
    var isASCIIHexadecimalDigit: Bool {
        isASCIIDigit
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
