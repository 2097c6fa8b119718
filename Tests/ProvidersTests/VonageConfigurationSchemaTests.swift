import Providers
import Testing
import _CryptoExtras

@Suite struct VonageConfigurationSchemaTests {
    let schema = ConfigurationSchema.forKey(.vonage)

    @Test func acceptsAPKCS1PrivateKey() throws {
        let pem = try Fixtures.vonagePrivateKeyPKCS1PEM()
        try #require(pem.contains("-----BEGIN RSA PRIVATE KEY-----"))

        #expect(schema.problems(in: try Fixtures.vonageDocument(), changing: ["private_key": .string(pem)]).isEmpty)
    }

    @Test func acceptsAPKCS8PrivateKey() throws {
        let pem = try Fixtures.vonagePrivateKeyPKCS8PEM()
        try #require(pem.contains("-----BEGIN PRIVATE KEY-----"))

        #expect(schema.problems(in: try Fixtures.vonageDocument(), changing: ["private_key": .string(pem)]).isEmpty)
    }

    @Test func normalizesThePrivateKeyToEndWithOneNewline() throws {
        let pem = try Fixtures.vonagePrivateKeyPKCS1PEM()
        let document = try Fixtures.vonageDocument().merging(["private_key": .string("\n" + pem + "\n\n")]) { _, new in new }

        let normalized = try schema.validate(document)

        #expect(normalized["private_key"] == .string(pem))
    }

    @Test func acceptsASignatureSecret() throws {
        let change: [String: JSONValue] = ["signature_secret": .string(Fixtures.vonageSignatureSecret)]

        #expect(schema.problems(in: try Fixtures.vonageDocument(), changing: change).isEmpty)
    }

    @Test func rejectsAPrivateKeyPEMThatDoesNotParse() throws {
        let brokenPEM = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"

        let problems = schema.problems(in: try Fixtures.vonageDocument(), changing: ["private_key": .string(brokenPEM)])

        #expect(problems == [FieldError(field: "private_key", problem: "must be a valid PEM-encoded RSA private key")])
    }

    @Test func rejectsAPrivateKeyThatIsNotPEM() throws {
        let problems = schema.problems(in: try Fixtures.vonageDocument(), changing: ["private_key": "just some text"])

        #expect(
            problems == [
                FieldError(
                    field: "private_key",
                    problem: "must be a PEM-encoded RSA private key starting with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----"
                )
            ]
        )
    }

    @Test func rejectsAnEncryptedPrivateKey() throws {
        let encryptedPEM = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nbm90IGEga2V5\n-----END ENCRYPTED PRIVATE KEY-----\n"

        let problems = schema.problems(in: try Fixtures.vonageDocument(), changing: ["private_key": .string(encryptedPEM)])

        #expect(problems == [FieldError(field: "private_key", problem: "must not be encrypted; export the private key without a passphrase")])
    }

    @Test func rejectsAnRSAKeyShorterThan2048Bits() throws {
        let shortKey = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))

        let problems = schema.problems(in: try Fixtures.vonageDocument(), changing: ["private_key": .string(shortKey.pemRepresentation)])

        #expect(problems == [FieldError(field: "private_key", problem: "must be an RSA private key of at least 2048 bits")])
    }

    @Test(arguments: ["not-a-uuid", "aaaaaaaabbbb4ccc8dddeeeeeeeeeeee", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee"])
    func rejectsAnApplicationIDThatIsNotAUUID(applicationID: String) throws {
        let problems = schema.problems(in: try Fixtures.vonageDocument(), changing: ["application_id": .string(applicationID)])

        #expect(problems == [FieldError(field: "application_id", problem: "must be a UUID such as 123e4567-e89b-12d3-a456-426614174000")])
    }

    @Test func normalizesTheApplicationIDToLowercase() throws {
        let document = try Fixtures.vonageDocument().merging(["application_id": .string(Fixtures.vonageApplicationID.uppercased())]) { _, new in new }

        let normalized = try schema.validate(document)

        #expect(normalized["application_id"] == .string(Fixtures.vonageApplicationID))
    }

    @Test(arguments: ["", "key-with-hyphen", String(repeating: "a", count: 65)])
    func rejectsAnAPIKeyThatIsNotOneTo64LettersOrDigits(apiKey: String) throws {
        let problems = schema.problems(in: try Fixtures.vonageDocument(), changing: ["api_key": .string(apiKey)])

        #expect(problems == [FieldError(field: "api_key", problem: "must be 1 to 64 letters or digits")])
    }

    @Test func rejectsAnEmptyAPISecret() throws {
        let problems = schema.problems(in: try Fixtures.vonageDocument(), changing: ["api_secret": ""])

        #expect(problems == [FieldError(field: "api_secret", problem: "must not be empty")])
    }
}
