import Providers
import _CryptoExtras

/// Test-only values: none of these are real credentials, and none may be used outside tests.
enum Fixtures {
    static let twilioAccountSID = "AC0123456789abcdef0123456789abcdef"
    static let twilioAuthToken = "fedcba9876543210fedcba9876543210"
    static let twilioAPIKeySID = "SK0123456789ABCDEF0123456789ABCDEF"
    static let twilioAPIKeySecret = "test-only-twilio-api-key-secret"
    static let twilioTwiMLAppSID = "AP0123456789abcdef0123456789abcdef"

    static let phoneNumbers = ["+14155550100", "+442071838750"]

    static let telnyxAPIKey = "KEYtestonly0123456789_telnyx"
    static let telnyxConnectionID = "1494404757140276705"
    /// The public key of RFC 8032 test vector 1.
    static let telnyxPublicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

    static let vonageAPIKey = "a1b2c3d4"
    static let vonageAPISecret = "test-only-vonage-api-secret"
    static let vonageApplicationID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    static let vonageSignatureSecret = "test-only-vonage-signature-secret"

    static let plivoAuthID = "MAODUZYTQ0Y2FMYJBLOW"
    static let plivoAuthToken = "test-only-plivo-auth-token"

    /// One RSA key for the whole test run, generated here so that no private key is ever committed.
    private static let vonagePrivateKey = Result { try _RSA.Signing.PrivateKey(keySize: .bits2048) }

    /// The Vonage test key as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
    static func vonagePrivateKeyPKCS1PEM() throws -> String {
        try vonagePrivateKey.get().pemRepresentation
    }

    /// The Vonage test key as PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    static func vonagePrivateKeyPKCS8PEM() throws -> String {
        try vonagePrivateKey.get().pkcs8PEMRepresentation
    }

    static var phoneNumbersValue: JSONValue {
        .array(phoneNumbers.map(JSONValue.string))
    }

    /// A valid `TWILIO_CONFIGURATION` with only the required fields.
    static var twilioDocument: [String: JSONValue] {
        [
            "account_sid": .string(twilioAccountSID),
            "auth_token": .string(twilioAuthToken),
            "from_numbers": phoneNumbersValue,
        ]
    }

    /// A valid `TWILIO_CONFIGURATION` with every optional field too.
    static var fullTwilioDocument: [String: JSONValue] {
        twilioDocument.merging([
            "api_key_sid": .string(twilioAPIKeySID),
            "api_key_secret": .string(twilioAPIKeySecret),
            "twiml_app_sid": .string(twilioTwiMLAppSID),
        ]) { _, new in new }
    }

    /// A valid `TELNYX_CONFIGURATION`.
    static var telnyxDocument: [String: JSONValue] {
        [
            "api_key": .string(telnyxAPIKey),
            "connection_id": .string(telnyxConnectionID),
            "from_numbers": phoneNumbersValue,
            "public_key": .string(telnyxPublicKey),
        ]
    }

    /// A valid `VONAGE_CONFIGURATION` with a PKCS#1 private key.
    static func vonageDocument() throws -> [String: JSONValue] {
        [
            "api_key": .string(vonageAPIKey),
            "api_secret": .string(vonageAPISecret),
            "application_id": .string(vonageApplicationID),
            "private_key": .string(try vonagePrivateKeyPKCS1PEM()),
            "from_numbers": phoneNumbersValue,
        ]
    }

    /// A valid `PLIVO_CONFIGURATION`.
    static var plivoDocument: [String: JSONValue] {
        [
            "auth_id": .string(plivoAuthID),
            "auth_token": .string(plivoAuthToken),
            "from_numbers": phoneNumbersValue,
        ]
    }

    /// A valid `TELEPHONY_PROVIDER`.
    static var telephonyProviderDocument: [String: JSONValue] {
        ["provider": "telnyx"]
    }

    /// A valid `CALL_POLICY`.
    static var callPolicyDocument: [String: JSONValue] {
        ["allowed_destination_prefixes": ["+1", "+4420"], "max_calls_per_minute": 30, "max_concurrent_calls": 5]
    }

    /// A valid `ODOO_CONFIGURATION` (test-only values).
    static var odooDocument: [String: JSONValue] {
        [
            "url": "https://acme.odoo.example", "database": "acme", "username": "sync@acme.example",
            "api_key": "test-only-odoo-key", "domain": [["customer_rank", ">", 0], "|", ["phone", "!=", false], ["mobile", "!=", false]],
            "write_back": true,
        ]
    }

    /// A valid document for `key`.
    static func validDocument(for key: ConfigurationKey) throws -> [String: JSONValue] {
        switch key {
        case .twilio: fullTwilioDocument
        case .telnyx: telnyxDocument
        case .vonage: try vonageDocument()
        case .plivo: plivoDocument
        case .telephonyProvider: telephonyProviderDocument
        case .callPolicy: callPolicyDocument
        case .odoo: odooDocument
        case .recordingPolicy: ["mode": "on_with_announcement", "announcement": "This call is recorded."]
        }
    }
}
