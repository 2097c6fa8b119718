/// Plivo credentials, read from a validated `PLIVO_CONFIGURATION` document.
public struct PlivoConfiguration: Sendable, Equatable {
    /// The auth ID.
    public var authID: String
    /// The auth token; secret.
    public var authToken: String
    /// The numbers calls and messages may come from, in E.164 form.
    public var fromNumbers: [String]

    /// Validates `document` against the Plivo schema and reads its normalized values.
    public init(document: [String: JSONValue]) throws(ConfigurationValidationError) {
        let validated = try ValidatedDocument(document, key: .plivo)
        authID = try validated.requiredString("auth_id")
        authToken = try validated.requiredString("auth_token")
        fromNumbers = try validated.requiredStrings("from_numbers")
    }
}

extension PlivoConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A log-safe description with secrets redacted.
    public var description: String {
        RedactedDescription("PlivoConfiguration")
            .field("authID", authID)
            .secret("authToken")
            .field("fromNumbers", fromNumbers)
            .text
    }

    /// The same log-safe description, so `String(reflecting:)` redacts secrets too.
    public var debugDescription: String {
        description
    }

    /// A mirror with secrets redacted, so `dump` and other reflection do not reveal them.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "authID": authID,
                "authToken": RedactedDescription.placeholder,
                "fromNumbers": fromNumbers,
            ],
            displayStyle: .struct
        )
    }
}
