/// Vonage credentials, read from a validated `VONAGE_CONFIGURATION` document.
public struct VonageConfiguration: Sendable, Equatable {
    /// The API key.
    public var apiKey: String
    /// The API secret; secret.
    public var apiSecret: String
    /// The application ID, a lowercase UUID.
    public var applicationID: String
    /// The application's RSA private key as PEM (PKCS#1 or PKCS#8), used to sign JWTs; secret.
    public var privateKeyPEM: String
    /// The secret that verifies signed webhooks, when configured; secret.
    public var signatureSecret: String?
    /// The numbers calls and messages may come from, in E.164 form.
    public var fromNumbers: [String]

    /// Validates `document` against the Vonage schema and reads its normalized values.
    public init(document: [String: JSONValue]) throws(ConfigurationValidationError) {
        let validated = try ValidatedDocument(document, key: .vonage)
        apiKey = try validated.requiredString("api_key")
        apiSecret = try validated.requiredString("api_secret")
        applicationID = try validated.requiredString("application_id")
        privateKeyPEM = try validated.requiredString("private_key")
        signatureSecret = validated.optionalString("signature_secret")
        fromNumbers = try validated.requiredStrings("from_numbers")
    }
}

extension VonageConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A log-safe description with secrets redacted.
    public var description: String {
        RedactedDescription("VonageConfiguration")
            .field("apiKey", apiKey)
            .secret("apiSecret")
            .field("applicationID", applicationID)
            .secret("privateKeyPEM")
            .optionalSecret("signatureSecret", isSet: signatureSecret != nil)
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
                "apiKey": apiKey,
                "apiSecret": RedactedDescription.placeholder,
                "applicationID": applicationID,
                "privateKeyPEM": RedactedDescription.placeholder,
                "signatureSecret": (signatureSecret == nil ? nil : RedactedDescription.placeholder) as Any,
                "fromNumbers": fromNumbers,
            ],
            displayStyle: .struct
        )
    }
}
