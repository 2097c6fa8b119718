import Foundation
import Providers
import Testing

@Suite struct TelnyxConfigurationSchemaTests {
    let schema = ConfigurationSchema.forKey(.telnyx)

    @Test func acceptsACredentialConnectionID() {
        #expect(schema.problems(in: Fixtures.telnyxDocument, changing: ["credential_connection_id": "cred_conn-42"]).isEmpty)
    }

    @Test func rejectsAPublicKeyThatDoesNotDecodeTo32Bytes() {
        let shortKey = Data(repeating: 7, count: 31).base64EncodedString()

        let problems = schema.problems(in: Fixtures.telnyxDocument, changing: ["public_key": .string(shortKey)])

        #expect(problems == [FieldError(field: "public_key", problem: "must decode to exactly 32 bytes (an Ed25519 public key)")])
    }

    @Test func rejectsAPublicKeyThatIsNotBase64() {
        let problems = schema.problems(in: Fixtures.telnyxDocument, changing: ["public_key": "not*base64!"])

        #expect(problems == [FieldError(field: "public_key", problem: "must be a base64-encoded Ed25519 public key")])
    }

    @Test func rejectsAnAPIKeyContainingWhitespace() {
        let problems = schema.problems(in: Fixtures.telnyxDocument, changing: ["api_key": "KEY with space"])

        #expect(problems == [FieldError(field: "api_key", problem: "must not contain whitespace")])
    }

    @Test func rejectsAnAPIKeyLongerThan512Characters() {
        let problems = schema.problems(in: Fixtures.telnyxDocument, changing: ["api_key": .string(String(repeating: "k", count: 513))])

        #expect(problems == [FieldError(field: "api_key", problem: "must be at most 512 characters")])
    }

    @Test func rejectsAConnectionIDWithCharactersOtherThanLettersDigitsUnderscoresAndHyphens() {
        let problems = schema.problems(in: Fixtures.telnyxDocument, changing: ["connection_id": "conn.42"])

        #expect(
            problems == [FieldError(field: "connection_id", problem: "must contain only letters, digits, underscores and hyphens")]
        )
    }

    @Test func rejectsAConnectionIDLongerThan128Characters() {
        let problems = schema.problems(in: Fixtures.telnyxDocument, changing: ["connection_id": .string(String(repeating: "c", count: 129))])

        #expect(problems == [FieldError(field: "connection_id", problem: "must be at most 128 characters")])
    }

    @Test func rejectsAnEmptyCredentialConnectionID() {
        let problems = schema.problems(in: Fixtures.telnyxDocument, changing: ["credential_connection_id": ""])

        #expect(problems == [FieldError(field: "credential_connection_id", problem: "must not be empty")])
    }
}
