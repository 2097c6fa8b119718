import Providers
import Testing

@Suite struct ConfigurationSchemaRotationTests {
    let twilio = ConfigurationSchema.forKey(.twilio)
    let newAuthToken = "0123456789abcdef0123456789abcdef"

    @Test func replacesOnlyTheGivenSecrets() throws {
        let rotated = try twilio.applyingRotation(["auth_token": .string(newAuthToken)], to: Fixtures.fullTwilioDocument)

        var expected = Fixtures.fullTwilioDocument
        expected["auth_token"] = .string(newAuthToken)
        #expect(rotated == expected)
    }

    @Test func refusesANonSecretField() {
        let error = #expect(throws: ConfigurationValidationError.self) {
            try twilio.applyingRotation(
                ["auth_token": .string(newAuthToken), "account_sid": .string(Fixtures.twilioAccountSID)],
                to: Fixtures.twilioDocument
            )
        }

        #expect(
            error?.errors == [
                FieldError(field: "account_sid", problem: "is not a secret field and cannot be rotated; change it with an update")
            ]
        )
    }

    @Test func refusesAnUnknownField() {
        let error = #expect(throws: ConfigurationValidationError.self) {
            try twilio.applyingRotation(["password": "hunter2hunter2"], to: Fixtures.twilioDocument)
        }

        #expect(error?.errors == [FieldError(field: "password", problem: "is not a known field")])
    }

    @Test func refusesARotationWithNoSecrets() {
        let error = #expect(throws: ConfigurationValidationError.self) {
            try twilio.applyingRotation([:], to: Fixtures.twilioDocument)
        }

        #expect(error?.errors == [FieldError(field: "", problem: "no secret fields given")])
    }

    @Test func validatesTheRotatedSecretItself() {
        let error = #expect(throws: ConfigurationValidationError.self) {
            try twilio.applyingRotation(["auth_token": "too-short"], to: Fixtures.twilioDocument)
        }

        #expect(error?.errors == [FieldError(field: "auth_token", problem: "must be 32 hexadecimal characters")])
    }

    @Test func refusesTheMaskOfTheCurrentSecretAsTheNewOne() {
        let plivo = ConfigurationSchema.forKey(.plivo)
        let mask = SecretMask.mask(Fixtures.plivoAuthToken)

        let error = #expect(throws: ConfigurationValidationError.self) {
            try plivo.applyingRotation(["auth_token": .string(mask)], to: Fixtures.plivoDocument)
        }

        #expect(error?.errors == [FieldError(field: "auth_token", problem: "must be the secret itself, not its mask")])
    }

    @Test func validatesTheRotatedDocumentAsAWhole() {
        let error = #expect(throws: ConfigurationValidationError.self) {
            try twilio.applyingRotation(["api_key_secret": .string(Fixtures.twilioAPIKeySecret)], to: Fixtures.twilioDocument)
        }

        #expect(error?.errors == [FieldError(field: "api_key_sid", problem: "is required when api_key_secret is given")])
    }
}
