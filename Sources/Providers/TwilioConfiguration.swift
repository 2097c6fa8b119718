/// Twilio credentials, read from a validated `TWILIO_CONFIGURATION` document.
public struct TwilioConfiguration: Sendable, Equatable {
    /// The account SID (`AC…`).
    public var accountSID: String
    /// The account's auth token; secret.
    public var authToken: String
    /// The numbers calls and messages may come from, in E.164 form.
    public var fromNumbers: [String]
    /// The API key SID (`SK…`), when an API key is configured.
    public var apiKeySID: String?
    /// The API key secret, given together with `apiKeySID`; secret.
    public var apiKeySecret: String?
    /// The TwiML application SID (`AP…`), when configured.
    public var twimlAppSID: String?

    /// Validates `document` against the Twilio schema and reads its normalized values.
    public init(document: [String: JSONValue]) throws(ConfigurationValidationError) {
        let validated = try ValidatedDocument(document, key: .twilio)
        accountSID = try validated.requiredString("account_sid")
        authToken = try validated.requiredString("auth_token")
        fromNumbers = try validated.requiredStrings("from_numbers")
        apiKeySID = validated.optionalString("api_key_sid")
        apiKeySecret = validated.optionalString("api_key_secret")
        twimlAppSID = validated.optionalString("twiml_app_sid")
    }
}

extension TwilioConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A log-safe description with secrets redacted.
    public var description: String {
        RedactedDescription("TwilioConfiguration")
            .field("accountSID", accountSID)
            .secret("authToken")
            .field("fromNumbers", fromNumbers)
            .field("apiKeySID", apiKeySID)
            .optionalSecret("apiKeySecret", isSet: apiKeySecret != nil)
            .field("twimlAppSID", twimlAppSID)
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
                "accountSID": accountSID,
                "authToken": RedactedDescription.placeholder,
                "fromNumbers": fromNumbers,
                "apiKeySID": apiKeySID as Any,
                "apiKeySecret": (apiKeySecret == nil ? nil : RedactedDescription.placeholder) as Any,
                "twimlAppSID": twimlAppSID as Any,
            ],
            displayStyle: .struct
        )
    }
}
