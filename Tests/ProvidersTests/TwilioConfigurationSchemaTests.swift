import Providers
import Testing

@Suite struct TwilioConfigurationSchemaTests {
    let schema = ConfigurationSchema.forKey(.twilio)

    @Test(arguments: [
        "0123456789abcdef0123456789abcdef01",
        "AC0123456789abcdef0123456789abcde",
        "AC0123456789abcdef0123456789abcdef0",
        "AC0123456789abcdef0123456789abcdeg",
        "ac0123456789abcdef0123456789abcdef",
    ])
    func rejectsAnAccountSIDThatIsNotACFollowedBy32HexadecimalCharacters(accountSID: String) {
        let problems = schema.problems(in: Fixtures.twilioDocument, changing: ["account_sid": .string(accountSID)])

        #expect(problems == [FieldError(field: "account_sid", problem: "must be AC followed by 32 hexadecimal characters")])
    }

    @Test(arguments: ["0123456789abcdef", "0123456789abcdef0123456789abcdeX", "0123456789abcdef0123456789abcdef0"])
    func rejectsAnAuthTokenThatIsNot32HexadecimalCharacters(authToken: String) {
        let problems = schema.problems(in: Fixtures.twilioDocument, changing: ["auth_token": .string(authToken)])

        #expect(problems == [FieldError(field: "auth_token", problem: "must be 32 hexadecimal characters")])
    }

    @Test func rejectsFromNumbersThatIsNotAnArray() {
        let problems = schema.problems(in: Fixtures.twilioDocument, changing: ["from_numbers": "+14155550100"])

        #expect(problems == [FieldError(field: "from_numbers", problem: "must be an array of E.164 phone numbers")])
    }

    @Test func rejectsAnEmptyFromNumbersList() {
        let problems = schema.problems(in: Fixtures.twilioDocument, changing: ["from_numbers": []])

        #expect(problems == [FieldError(field: "from_numbers", problem: "must contain at least one phone number")])
    }

    @Test(arguments: [
        "14155550100",
        "+04155550100",
        "+123456",
        "+1234567890123456",
        "+1415555010a",
        "+1 415 555 0100",
        "",
        "+",
    ])
    func reportsAPhoneNumberThatIsNotE164UnderItsIndex(number: String) {
        let problems = schema.problems(
            in: Fixtures.twilioDocument,
            changing: ["from_numbers": ["+14155550100", .string(number)]]
        )

        #expect(problems == [FieldError(field: "from_numbers[1]", problem: "must be an E.164 phone number such as +14155550100")])
    }

    @Test(arguments: ["+1234567", "+123456789012345"])
    func acceptsE164NumbersOfTheShortestAndLongestLength(number: String) {
        #expect(schema.problems(in: Fixtures.twilioDocument, changing: ["from_numbers": [.string(number)]]).isEmpty)
    }

    @Test func reportsAPhoneNumberThatIsNotAStringUnderItsIndex() {
        let problems = schema.problems(in: Fixtures.twilioDocument, changing: ["from_numbers": ["+14155550100", 14155550101]])

        #expect(problems == [FieldError(field: "from_numbers[1]", problem: "must be a string")])
    }

    @Test func reportsADuplicatePhoneNumberAgainstItsFirstOccurrence() {
        let problems = schema.problems(
            in: Fixtures.twilioDocument,
            changing: ["from_numbers": ["+14155550100", "+14155550101", " +14155550100"]]
        )

        #expect(problems == [FieldError(field: "from_numbers[2]", problem: "duplicates from_numbers[0]")])
    }

    @Test func acceptsOneHundredPhoneNumbers() {
        let numbers = (0..<100).map { JSONValue.string("+1415555\(1000 + $0)") }

        #expect(schema.problems(in: Fixtures.twilioDocument, changing: ["from_numbers": .array(numbers)]).isEmpty)
    }

    @Test func rejectsMoreThanOneHundredPhoneNumbers() {
        let numbers = (0..<101).map { JSONValue.string("+1415555\(1000 + $0)") }

        let problems = schema.problems(in: Fixtures.twilioDocument, changing: ["from_numbers": .array(numbers)])

        #expect(problems == [FieldError(field: "from_numbers", problem: "must contain at most 100 phone numbers")])
    }

    @Test func acceptsEveryOptionalField() throws {
        let normalized = try schema.validate(Fixtures.fullTwilioDocument)

        #expect(normalized == Fixtures.fullTwilioDocument)
    }

    @Test func requiresTheAPIKeySecretWhenTheAPIKeySIDIsGiven() {
        let problems = schema.problems(in: Fixtures.fullTwilioDocument, removing: "api_key_secret")

        #expect(problems == [FieldError(field: "api_key_secret", problem: "is required when api_key_sid is given")])
    }

    @Test func requiresTheAPIKeySIDWhenTheAPIKeySecretIsGiven() {
        let problems = schema.problems(in: Fixtures.fullTwilioDocument, removing: "api_key_sid")

        #expect(problems == [FieldError(field: "api_key_sid", problem: "is required when api_key_secret is given")])
    }

    @Test func rejectsAnAPIKeySIDThatIsNotSKFollowedBy32HexadecimalCharacters() {
        let problems = schema.problems(in: Fixtures.fullTwilioDocument, changing: ["api_key_sid": .string(Fixtures.twilioAccountSID)])

        #expect(problems == [FieldError(field: "api_key_sid", problem: "must be SK followed by 32 hexadecimal characters")])
    }

    @Test func rejectsAnEmptyAPIKeySecret() {
        let problems = schema.problems(in: Fixtures.fullTwilioDocument, changing: ["api_key_secret": "   "])

        #expect(problems == [FieldError(field: "api_key_secret", problem: "must not be empty")])
    }

    @Test func rejectsAnAPIKeySecretLongerThan256Characters() {
        let problems = schema.problems(
            in: Fixtures.fullTwilioDocument,
            changing: ["api_key_secret": .string(String(repeating: "x", count: 257))]
        )

        #expect(problems == [FieldError(field: "api_key_secret", problem: "must be at most 256 characters")])
    }

    @Test func rejectsATwiMLAppSIDThatIsNotAPFollowedBy32HexadecimalCharacters() {
        let problems = schema.problems(in: Fixtures.fullTwilioDocument, changing: ["twiml_app_sid": "AP123"])

        #expect(problems == [FieldError(field: "twiml_app_sid", problem: "must be AP followed by 32 hexadecimal characters")])
    }
}
