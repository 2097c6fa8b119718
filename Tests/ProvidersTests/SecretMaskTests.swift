import Providers
import Testing

@Suite struct SecretMaskTests {
    @Test(arguments: ["abcdefgh1234", "a-much-longer-secret-ending-WXYZ"])
    func showsTheLastFourCharactersOfASecretOfTwelveOrMore(secret: String) {
        #expect(SecretMask.mask(secret) == "****" + secret.suffix(4))
    }

    @Test(arguments: ["abcdef12", "abcdefghi12"])
    func showsTheLastTwoCharactersOfASecretOfEightToEleven(secret: String) {
        #expect(SecretMask.mask(secret) == "****12")
    }

    @Test(arguments: ["", "a", "abcdefg"])
    func showsOnlyTheMaskForASecretShorterThanEight(secret: String) {
        #expect(SecretMask.mask(secret) == "****")
    }

    @Test func showsOnlyTheMaskForAPEMPrivateKey() throws {
        #expect(SecretMask.mask(try Fixtures.vonagePrivateKeyPKCS8PEM()) == "****")
    }
}
