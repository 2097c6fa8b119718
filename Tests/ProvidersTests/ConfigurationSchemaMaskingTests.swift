import Providers
import Testing

@Suite struct ConfigurationSchemaMaskingTests {
    let twilio = ConfigurationSchema.forKey(.twilio)

    @Test func masksEverySecretField() {
        let masked = twilio.masked(Fixtures.fullTwilioDocument)

        #expect(masked["auth_token"] == .string(SecretMask.mask(Fixtures.twilioAuthToken)))
        #expect(masked["api_key_secret"] == .string(SecretMask.mask(Fixtures.twilioAPIKeySecret)))
    }

    @Test func leavesNonSecretFieldsAsTheyAre() {
        let masked = twilio.masked(Fixtures.fullTwilioDocument)

        for field in ["account_sid", "from_numbers", "api_key_sid", "twiml_app_sid"] {
            #expect(masked[field] == Fixtures.fullTwilioDocument[field])
        }
    }

    @Test func masksASecretFieldThatIsNotAStringWithTheBareMask() {
        let masked = twilio.masked(["auth_token": ["unexpected", "array"]])

        #expect(masked == ["auth_token": "****"])
    }

    @Test func restoresTheStoredSecretWhenGivenItsMask() {
        let incoming = twilio.masked(Fixtures.fullTwilioDocument)

        let restored = twilio.restoringMaskedSecrets(in: incoming, from: Fixtures.fullTwilioDocument)

        #expect(restored == Fixtures.fullTwilioDocument)
    }

    @Test func keepsANewSecretThatIsNotTheMaskOfTheStoredOne() {
        let newToken = "00000000000000000000000000000000"
        let incoming = Fixtures.twilioDocument.merging(["auth_token": .string(newToken)]) { _, new in new }

        let restored = twilio.restoringMaskedSecrets(in: incoming, from: Fixtures.twilioDocument)

        #expect(restored["auth_token"] == .string(newToken))
    }

    @Test func leavesTheIncomingDocumentUnchangedWhenNothingIsStored() {
        let incoming = twilio.masked(Fixtures.fullTwilioDocument)

        #expect(twilio.restoringMaskedSecrets(in: incoming, from: nil) == incoming)
    }

    @Test func doesNotRestoreANonSecretFieldThatLooksLikeAMask() {
        let incoming = Fixtures.twilioDocument.merging(["account_sid": .string(SecretMask.mask(Fixtures.twilioAccountSID))]) { _, new in new }

        let restored = twilio.restoringMaskedSecrets(in: incoming, from: Fixtures.twilioDocument)

        #expect(restored["account_sid"] == .string(SecretMask.mask(Fixtures.twilioAccountSID)))
    }
}
