import Providers
import Testing

@Suite struct PlivoConfigurationSchemaTests {
    let schema = ConfigurationSchema.forKey(.plivo)

    @Test func rejectsAnAuthTokenContainingWhitespace() {
        let problems = schema.problems(in: Fixtures.plivoDocument, changing: ["auth_token": "token with space"])

        #expect(problems == [FieldError(field: "auth_token", problem: "must not contain whitespace")])
    }

    @Test func rejectsAnAuthTokenOfOnlyWhitespace() {
        let problems = schema.problems(in: Fixtures.plivoDocument, changing: ["auth_token": " \n "])

        #expect(problems == [FieldError(field: "auth_token", problem: "must not be empty")])
    }

    @Test func rejectsAnAuthTokenLongerThan256Characters() {
        let problems = schema.problems(in: Fixtures.plivoDocument, changing: ["auth_token": .string(String(repeating: "t", count: 257))])

        #expect(problems == [FieldError(field: "auth_token", problem: "must be at most 256 characters")])
    }

    @Test(arguments: ["", "MA_ODUZYTQ0Y2", String(repeating: "M", count: 65)])
    func rejectsAnAuthIDThatIsNotOneTo64LettersOrDigits(authID: String) {
        let problems = schema.problems(in: Fixtures.plivoDocument, changing: ["auth_id": .string(authID)])

        #expect(problems == [FieldError(field: "auth_id", problem: "must be 1 to 64 letters or digits")])
    }
}
