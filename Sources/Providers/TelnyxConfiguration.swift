/// Telnyx credentials, read from a validated `TELNYX_CONFIGURATION` document.
public struct TelnyxConfiguration: Sendable, Equatable {
    /// The API key; secret.
    public var apiKey: String
    /// The call-control connection ID.
    public var connectionID: String
    /// The numbers calls and messages may come from, in E.164 form.
    public var fromNumbers: [String]
    /// The Ed25519 public key that verifies Telnyx webhook signatures, as standard base64 of its 32 bytes.
    public var publicKey: String
    /// The credential connection ID, when configured.
    public var credentialConnectionID: String?

    /// Validates `document` against the Telnyx schema and reads its normalized values.
    public init(document: [String: JSONValue]) throws(ConfigurationValidationError) {
        let validated = try ValidatedDocument(document, key: .telnyx)
        apiKey = try validated.requiredString("api_key")
        connectionID = try validated.requiredString("connection_id")
        fromNumbers = try validated.requiredStrings("from_numbers")
        publicKey = try validated.requiredString("public_key")
        credentialConnectionID = validated.optionalString("credential_connection_id")
    }
}

extension TelnyxConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A log-safe description with secrets redacted.
    public var description: String {
        RedactedDescription("TelnyxConfiguration")
            .secret("apiKey")
            .field("connectionID", connectionID)
            .field("fromNumbers", fromNumbers)
            .field("publicKey", publicKey)
            .field("credentialConnectionID", credentialConnectionID)
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
                "apiKey": RedactedDescription.placeholder,
                "connectionID": connectionID,
                "fromNumbers": fromNumbers,
                "publicKey": publicKey,
                "credentialConnectionID": credentialConnectionID as Any,
            ],
            displayStyle: .struct
        )
    }
}
