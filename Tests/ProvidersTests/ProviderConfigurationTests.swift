import Providers
import Testing

@Suite struct ProviderConfigurationTests {
    @Test func twilioConfigurationReadsTheNormalizedDocument() throws {
        let document = Fixtures.fullTwilioDocument.merging(["account_sid": .string(" \(Fixtures.twilioAccountSID) ")]) { _, new in new }

        let configuration = try TwilioConfiguration(document: document)

        #expect(configuration.accountSID == Fixtures.twilioAccountSID)
        #expect(configuration.authToken == Fixtures.twilioAuthToken)
        #expect(configuration.fromNumbers == Fixtures.phoneNumbers)
        #expect(configuration.apiKeySID == Fixtures.twilioAPIKeySID)
        #expect(configuration.apiKeySecret == Fixtures.twilioAPIKeySecret)
        #expect(configuration.twimlAppSID == Fixtures.twilioTwiMLAppSID)
    }

    @Test func twilioConfigurationRejectsAnInvalidDocument() {
        let error = #expect(throws: ConfigurationValidationError.self) {
            try TwilioConfiguration(document: [:])
        }

        #expect(error?.errors.map(\.field) == ["account_sid", "auth_token", "from_numbers"])
    }

    @Test func telnyxConfigurationReadsTheDocument() throws {
        let configuration = try TelnyxConfiguration(document: Fixtures.telnyxDocument)

        #expect(configuration.apiKey == Fixtures.telnyxAPIKey)
        #expect(configuration.connectionID == Fixtures.telnyxConnectionID)
        #expect(configuration.publicKey == Fixtures.telnyxPublicKey)
        #expect(configuration.credentialConnectionID == nil)
    }

    @Test func vonageConfigurationReadsTheDocument() throws {
        let configuration = try VonageConfiguration(document: try Fixtures.vonageDocument())

        #expect(configuration.applicationID == Fixtures.vonageApplicationID)
        #expect(configuration.privateKeyPEM == (try Fixtures.vonagePrivateKeyPKCS1PEM()))
        #expect(configuration.signatureSecret == nil)
    }

    @Test func plivoConfigurationReadsTheDocument() throws {
        let configuration = try PlivoConfiguration(document: Fixtures.plivoDocument)

        #expect(configuration.authID == Fixtures.plivoAuthID)
        #expect(configuration.authToken == Fixtures.plivoAuthToken)
    }

    @Test func telephonyProviderChoiceReadsTheProvider() throws {
        #expect(try TelephonyProviderChoice(document: ["provider": "vonage"]).provider == .vonage)
    }

    @Test func twilioDescriptionsRedactSecrets() throws {
        let configuration = try TwilioConfiguration(document: Fixtures.fullTwilioDocument)

        expectRedacted(configuration, secrets: [Fixtures.twilioAuthToken, Fixtures.twilioAPIKeySecret], shows: Fixtures.twilioAccountSID)
    }

    @Test func telnyxDescriptionsRedactSecrets() throws {
        let configuration = try TelnyxConfiguration(document: Fixtures.telnyxDocument)

        expectRedacted(configuration, secrets: [Fixtures.telnyxAPIKey], shows: Fixtures.telnyxConnectionID)
    }

    @Test func vonageDescriptionsRedactSecrets() throws {
        let document = try Fixtures.vonageDocument().merging(["signature_secret": .string(Fixtures.vonageSignatureSecret)]) { _, new in new }
        let configuration = try VonageConfiguration(document: document)

        expectRedacted(
            configuration,
            secrets: [Fixtures.vonageAPISecret, Fixtures.vonageSignatureSecret, "PRIVATE KEY"],
            shows: Fixtures.vonageApplicationID
        )
    }

    @Test func plivoDescriptionsRedactSecrets() throws {
        let configuration = try PlivoConfiguration(document: Fixtures.plivoDocument)

        expectRedacted(configuration, secrets: [Fixtures.plivoAuthToken], shows: Fixtures.plivoAuthID)
    }

    /// Checks every way a value is commonly turned into text: none reveals `secrets`, all still show `visibleValue`.
    private func expectRedacted(
        _ value: some Any,
        secrets: [String],
        shows visibleValue: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var dumped = ""
        dump(value, to: &dumped)
        let renderings = [String(describing: value), String(reflecting: value), "\(value)", dumped]
        for rendering in renderings {
            #expect(rendering.contains(visibleValue), sourceLocation: sourceLocation)
            #expect(rendering.contains("<redacted>"), sourceLocation: sourceLocation)
            for secret in secrets {
                #expect(!rendering.contains(secret), "rendering reveals a secret", sourceLocation: sourceLocation)
            }
        }
    }
}
