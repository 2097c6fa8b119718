import Providers
import Testing

@Suite struct WebhookSecretTests {
    @Test func descriptionRedactsSecrets() {
        let secrets: [WebhookSecret] = [
            .twilioAuthToken("twilio-secret-value"), .vonageSignatureSecret("vonage-secret-value"),
            .plivoAuthToken("plivo-secret-value"),
        ]

        for secret in secrets {
            #expect(!String(describing: secret).contains("secret-value"))
            #expect(!String(reflecting: secret).contains("secret-value"))
        }
    }

    @Test func dumpRevealsNoSecret() {
        var dumped = ""
        dump(WebhookSecret.twilioAuthToken("twilio-secret-value"), to: &dumped)

        #expect(!dumped.contains("secret-value"))
    }

    @Test func namesItsProvider() {
        #expect(WebhookSecret.telnyxPublicKey("key").provider == .telnyx)
    }

    @Test func twilioConfigurationGivesItsAuthToken() throws {
        let configuration = try TwilioConfiguration(document: Fixtures.twilioDocument)

        guard case .twilioAuthToken(let token) = configuration.webhookSecret else {
            Issue.record("expected a Twilio auth token")
            return
        }
        #expect(token == Fixtures.twilioAuthToken)
    }

    @Test func telnyxConfigurationGivesItsPublicKey() throws {
        let configuration = try TelnyxConfiguration(document: Fixtures.telnyxDocument)

        guard case .telnyxPublicKey(let key) = configuration.webhookSecret else {
            Issue.record("expected a Telnyx public key")
            return
        }
        #expect(key == Fixtures.telnyxPublicKey)
    }

    @Test func vonageConfigurationWithoutASignatureSecretGivesNone() throws {
        let configuration = try VonageConfiguration(document: Fixtures.vonageDocument())

        #expect(configuration.webhookSecret == nil)
    }

    @Test func vonageConfigurationGivesItsSignatureSecret() throws {
        var document = try Fixtures.vonageDocument()
        document["signature_secret"] = .string(Fixtures.vonageSignatureSecret)
        let configuration = try VonageConfiguration(document: document)

        guard case .vonageSignatureSecret(let secret) = configuration.webhookSecret else {
            Issue.record("expected a Vonage signature secret")
            return
        }
        #expect(secret == Fixtures.vonageSignatureSecret)
    }

    @Test func plivoConfigurationGivesItsAuthToken() throws {
        let configuration = try PlivoConfiguration(document: Fixtures.plivoDocument)

        guard case .plivoAuthToken(let token) = configuration.webhookSecret else {
            Issue.record("expected a Plivo auth token")
            return
        }
        #expect(token == Fixtures.plivoAuthToken)
    }
}
