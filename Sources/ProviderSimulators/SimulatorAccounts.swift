import Crypto
import Foundation
import _CryptoExtras

/// Credentials and numbers the simulator accepts (test-only values).
public struct SimulatorAccounts: Sendable {
    /// A Twilio account: its SID and auth token, optional API keys, and the numbers it owns.
    public struct Twilio: Sendable {
        /// An API key (SID `SK…` and secret) that authenticates as the account.
        public struct APIKey: Sendable, Equatable {
            /// The key SID, `SK` followed by 32 hex digits.
            public var sid: String
            /// The key secret.
            public var secret: String

            /// Creates an API key.
            public init(sid: String, secret: String) {
                self.sid = sid
                self.secret = secret
            }
        }

        /// A TwiML application: where Twilio fetches TwiML for calls made through it (e.g. browser clients).
        public struct Application: Sendable, Equatable {
            /// `AP` followed by 32 hex digits.
            public var sid: String
            /// The voice URL; nil until one is set (browser calls through it are refused until then).
            public var voiceURL: String?
            /// "POST" or "GET".
            public var voiceMethod: String

            /// Creates an application.
            public init(sid: String, voiceURL: String? = nil, voiceMethod: String = "POST") {
                self.sid = sid
                self.voiceURL = voiceURL
                self.voiceMethod = voiceMethod
            }
        }

        /// `AC` followed by 32 lowercase hex digits.
        public var accountSID: String
        /// 32 hex digits.
        public var authToken: String
        /// E.164 numbers the account owns; calls may only come from these.
        public var numbers: [String]
        /// API keys accepted in place of the auth token; they also sign access tokens.
        public var apiKeys: [APIKey]
        /// TwiML applications; the REST API changes their voice URLs in the simulator, not here.
        public var applications: [Application]

        /// Creates a Twilio account.
        public init(
            accountSID: String, authToken: String, numbers: [String], apiKeys: [APIKey] = [],
            applications: [Application] = []
        ) {
            self.accountSID = accountSID
            self.authToken = authToken
            self.numbers = numbers
            self.apiKeys = apiKeys
            self.applications = applications
        }
    }

    /// A Telnyx account: API key, Call Control connections, numbers and the webhook signing key.
    public struct Telnyx: Sendable {
        /// The `Authorization: Bearer` key.
        public var apiKey: String
        /// Call Control application (connection) ids that may place calls.
        public var connectionIDs: [String]
        /// E.164 numbers the account owns.
        public var numbers: [String]
        /// Credential (SIP/WebRTC) connection ids; not usable for dialing, but telephony credentials live on them.
        public var credentialConnectionIDs: [String]
        /// The Ed25519 key that signs this account's webhooks.
        public var webhookSigningKey: Curve25519.Signing.PrivateKey
        /// Where webhooks go when a call names no `webhook_url` (the connection's configured URL).
        public var connectionWebhookURL: String?
        /// Where the credential connections' call events (WebRTC legs) go until `PATCH /credential_connections` says.
        public var credentialConnectionWebhookURL: String?

        /// The webhook public key as Telnyx shows it: base64 of the 32 raw bytes.
        public var publicKeyBase64: String {
            webhookSigningKey.publicKey.rawRepresentation.base64EncodedString()
        }

        /// Creates a Telnyx account.
        public init(
            apiKey: String,
            connectionIDs: [String],
            numbers: [String],
            credentialConnectionIDs: [String] = [],
            webhookSigningKey: Curve25519.Signing.PrivateKey = .init(),
            connectionWebhookURL: String? = nil,
            credentialConnectionWebhookURL: String? = nil
        ) {
            self.apiKey = apiKey
            self.connectionIDs = connectionIDs
            self.numbers = numbers
            self.credentialConnectionIDs = credentialConnectionIDs
            self.webhookSigningKey = webhookSigningKey
            self.connectionWebhookURL = connectionWebhookURL
            self.credentialConnectionWebhookURL = credentialConnectionWebhookURL
        }
    }

    /// A Vonage account with one Voice application.
    public struct Vonage: Sendable {
        /// The account API key (8 hex digits).
        public var apiKey: String
        /// The account API secret.
        public var apiSecret: String
        /// The application id, a lowercase UUID.
        public var applicationID: String
        /// The application's registered RSA public key (`-----BEGIN PUBLIC KEY-----`).
        public var applicationPublicKeyPEM: String
        /// The secret that signs webhooks (HS256).
        public var signatureSecret: String
        /// E.164 numbers linked to the application; the API uses them without `+`.
        public var numbers: [String]
        /// The application's configured event URL, used when a call names no `event_url`.
        public var applicationEventURL: String?

        /// Creates a Vonage account.
        public init(
            apiKey: String,
            apiSecret: String,
            applicationID: String,
            applicationPublicKeyPEM: String,
            signatureSecret: String,
            numbers: [String],
            applicationEventURL: String? = nil
        ) {
            self.apiKey = apiKey
            self.apiSecret = apiSecret
            self.applicationID = applicationID
            self.applicationPublicKeyPEM = applicationPublicKeyPEM
            self.signatureSecret = signatureSecret
            self.numbers = numbers
            self.applicationEventURL = applicationEventURL
        }

        /// The numbers as Vonage writes them: digits only.
        var msisdns: [String] { numbers.map(digitsOnly) }
    }

    /// A Plivo account.
    public struct Plivo: Sendable {
        /// `MA` followed by 18 uppercase alphanumerics.
        public var authID: String
        /// The auth token.
        public var authToken: String
        /// E.164 numbers the account owns.
        public var numbers: [String]

        /// Creates a Plivo account.
        public init(authID: String, authToken: String, numbers: [String]) {
            self.authID = authID
            self.authToken = authToken
            self.numbers = numbers
        }
    }

    /// Twilio accounts.
    public var twilio: [Twilio]
    /// Telnyx accounts.
    public var telnyx: [Telnyx]
    /// Vonage accounts.
    public var vonage: [Vonage]
    /// Plivo accounts.
    public var plivo: [Plivo]

    /// Creates a set of accounts.
    public init(twilio: [Twilio] = [], telnyx: [Telnyx] = [], vonage: [Vonage] = [], plivo: [Plivo] = []) {
        self.twilio = twilio
        self.telnyx = telnyx
        self.vonage = vonage
        self.plivo = plivo
    }

    /// Fresh random accounts, one per provider, with numbers `+1415555xxxx` (Twilio: one API key and one application
    /// without a voice URL; Telnyx: one credential connection); also returns each Vonage application's private key PEM.
    public static func random() throws -> (accounts: SimulatorAccounts, vonagePrivateKeyPEM: [String]) {
        let applicationKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        var numbers = randomNumbers(count: 8).makeIterator()
        func nextNumber() -> String { numbers.next() ?? "+14155552000" }

        let twilio = Twilio(
            accountSID: "AC" + RandomIdentifier.hex(32),
            authToken: RandomIdentifier.hex(32),
            numbers: [nextNumber(), nextNumber()],
            apiKeys: [.init(sid: "SK" + RandomIdentifier.hex(32), secret: RandomIdentifier.alphanumeric(32))],
            applications: [.init(sid: "AP" + RandomIdentifier.hex(32))]
        )
        let telnyx = Telnyx(
            apiKey: "KEY" + RandomIdentifier.hex(32).uppercased() + "_" + RandomIdentifier.alphanumeric(22),
            connectionIDs: [RandomIdentifier.digits(19)],
            numbers: [nextNumber(), nextNumber()],
            credentialConnectionIDs: [RandomIdentifier.digits(19)],
            webhookSigningKey: Curve25519.Signing.PrivateKey()
        )
        let vonage = Vonage(
            apiKey: RandomIdentifier.hex(8),
            apiSecret: RandomIdentifier.alphanumeric(16),
            applicationID: RandomIdentifier.uuid(),
            applicationPublicKeyPEM: applicationKey.publicKey.pemRepresentation,
            signatureSecret: RandomIdentifier.alphanumeric(40),
            numbers: [nextNumber(), nextNumber()]
        )
        let plivo = Plivo(
            authID: "MA" + RandomIdentifier.upperAlphanumeric(18),
            authToken: RandomIdentifier.alphanumeric(40),
            numbers: [nextNumber(), nextNumber()]
        )
        let accounts = SimulatorAccounts(twilio: [twilio], telnyx: [telnyx], vonage: [vonage], plivo: [plivo])
        return (accounts, [applicationKey.pkcs8PEMRepresentation])
    }

    /// Distinct `+1415555xxxx` numbers whose last four digits never select a failure scenario.
    private static func randomNumbers(count: Int) -> [String] {
        var chosen: [String] = []
        while chosen.count < count {
            let number = "+1415555" + String(Int.random(in: 2000...9999))
            if !chosen.contains(number) { chosen.append(number) }
        }
        return chosen
    }
}

/// The ASCII digits of a string, in order.
func digitsOnly(_ text: String) -> String {
    String(text.filter { $0.isASCII && $0.isNumber })
}
