import Providers
import Testing

@Suite struct ConfigurationSchemaTests {
    @Test(arguments: ConfigurationKey.allCases)
    func acceptsAValidDocumentOfEveryKey(key: ConfigurationKey) throws {
        let document = try Fixtures.validDocument(for: key)

        let normalized = try ConfigurationSchema.forKey(key).validate(document)

        #expect(normalized == document)
    }

    @Test(arguments: ConfigurationKey.allCases)
    func schemaDescribesTheKeyItWasAskedFor(key: ConfigurationKey) {
        #expect(ConfigurationSchema.forKey(key).key == key)
    }

    @Test func listsFieldNamesInDeclaredOrder() {
        #expect(
            ConfigurationSchema.forKey(.twilio).fieldNames
                == ["account_sid", "auth_token", "from_numbers", "api_key_sid", "api_key_secret", "twiml_app_sid"]
        )
    }

    @Test func namesTheSecretFieldsOfEveryKey() {
        #expect(ConfigurationSchema.forKey(.twilio).secretFieldNames == ["auth_token", "api_key_secret"])
        #expect(ConfigurationSchema.forKey(.telnyx).secretFieldNames == ["api_key"])
        #expect(ConfigurationSchema.forKey(.vonage).secretFieldNames == ["api_secret", "private_key", "signature_secret"])
        #expect(ConfigurationSchema.forKey(.plivo).secretFieldNames == ["auth_token"])
        #expect(ConfigurationSchema.forKey(.telephonyProvider).secretFieldNames.isEmpty)
        #expect(ConfigurationSchema.forKey(.callPolicy).secretFieldNames.isEmpty)
    }

    @Test func reportsAnUnknownField() {
        let problems = ConfigurationSchema.forKey(.plivo).problems(in: Fixtures.plivoDocument, changing: ["region": "eu"])

        #expect(problems == [FieldError(field: "region", problem: "is not a known field")])
    }

    @Test func reportsAMissingRequiredField() {
        let problems = ConfigurationSchema.forKey(.plivo).problems(in: Fixtures.plivoDocument, removing: "auth_id")

        #expect(problems == [FieldError(field: "auth_id", problem: "is required")])
    }

    @Test func treatsANullRequiredFieldAsMissing() {
        let problems = ConfigurationSchema.forKey(.plivo).problems(in: Fixtures.plivoDocument, changing: ["auth_id": .null])

        #expect(problems == [FieldError(field: "auth_id", problem: "is required")])
    }

    @Test func dropsAnOptionalFieldGivenAsNull() throws {
        let document = Fixtures.twilioDocument.merging(["twiml_app_sid": .null]) { _, new in new }

        let normalized = try ConfigurationSchema.forKey(.twilio).validate(document)

        #expect(normalized == Fixtures.twilioDocument)
    }

    @Test func reportsAStringFieldOfTheWrongJSONType() {
        let problems = ConfigurationSchema.forKey(.plivo).problems(in: Fixtures.plivoDocument, changing: ["auth_id": 42])

        #expect(problems == [FieldError(field: "auth_id", problem: "must be a string")])
    }

    @Test func reportsEveryProblemAtOnce() {
        let document: [String: JSONValue] = [
            "auth_id": true,
            "from_numbers": ["+14155550100", "not a number"],
            "colour": "blue",
        ]

        let problems = ConfigurationSchema.forKey(.plivo).problems(in: document)

        #expect(
            problems == [
                FieldError(field: "auth_id", problem: "must be a string"),
                FieldError(field: "auth_token", problem: "is required"),
                FieldError(field: "colour", problem: "is not a known field"),
                FieldError(field: "from_numbers[1]", problem: "must be an E.164 phone number such as +14155550100"),
            ]
        )
    }

    @Test func sortsArrayItemProblemsByNumericIndex() {
        var numbers = (0..<11).map { JSONValue.string("+1415555\(1000 + $0)") }
        numbers[2] = "bad"
        numbers[10] = "also bad"

        let problems = ConfigurationSchema.forKey(.plivo).problems(in: Fixtures.plivoDocument, changing: ["from_numbers": .array(numbers)])

        #expect(problems.map(\.field) == ["from_numbers[2]", "from_numbers[10]"])
    }

    @Test func trimsSurroundingWhitespaceFromEveryStringIncludingSecrets() throws {
        let document: [String: JSONValue] = [
            "auth_id": .string("  \(Fixtures.plivoAuthID)\n"),
            "auth_token": .string("\t\(Fixtures.plivoAuthToken) "),
            "from_numbers": [" +14155550100 "],
        ]

        let normalized = try ConfigurationSchema.forKey(.plivo).validate(document)

        #expect(
            normalized == [
                "auth_id": .string(Fixtures.plivoAuthID),
                "auth_token": .string(Fixtures.plivoAuthToken),
                "from_numbers": ["+14155550100"],
            ]
        )
    }

    @Test func rejectsAMaskInPlaceOfASecret() {
        let mask = SecretMask.mask(Fixtures.plivoAuthToken)

        let problems = ConfigurationSchema.forKey(.plivo).problems(in: Fixtures.plivoDocument, changing: ["auth_token": .string(mask)])

        #expect(problems == [FieldError(field: "auth_token", problem: "must be the secret itself, not its mask")])
    }

    @Test func errorDescriptionNeverContainsASubmittedSecret() {
        let rejectedSecrets = [
            "auth_token": "not-hex-but-quite-secret-value",
            "api_key_secret": String(repeating: "s3cr3t", count: 50),
        ]
        var document = Fixtures.fullTwilioDocument
        for (field, secret) in rejectedSecrets {
            document[field] = .string(secret)
        }

        let error = #expect(throws: ConfigurationValidationError.self) {
            try ConfigurationSchema.forKey(.twilio).validate(document)
        }

        #expect(error?.errors.count == 2)
        let description = String(describing: error)
        for secret in rejectedSecrets.values {
            #expect(!description.contains(secret))
            #expect(!description.contains(String(secret.prefix(8))))
        }
    }

    @Test func errorDescriptionListsFieldAndProblem() {
        let error = ConfigurationValidationError(errors: [
            FieldError(field: "b", problem: "is required"),
            FieldError(field: "a", problem: "must be a string"),
        ])

        #expect(error.description == "invalid configuration: a: must be a string; b: is required")
    }
}
