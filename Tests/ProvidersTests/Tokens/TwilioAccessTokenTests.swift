import Crypto
import Foundation
import Providers
import Testing

@Suite struct TwilioAccessTokenTests {
    /// Test-only values.
    static let keySecret = "test-only-twilio-api-key-secret-0001"
    static func configuration() throws -> TwilioConfiguration {
        let document: [String: JSONValue] = [
            "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "fedcba9876543210fedcba9876543210",
            "from_numbers": ["+14155550100"], "api_key_sid": "SK0123456789abcdef0123456789abcdef",
            "api_key_secret": .string(keySecret), "twiml_app_sid": "AP0123456789abcdef0123456789abcdef",
        ]
        return try TwilioConfiguration(document: document)
    }

    static func segments(_ token: String) throws -> (header: [String: Any], payload: [String: Any], signingInput: String, signature: Data) {
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        func decode(_ part: String) -> Data {
            var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            return Data(base64Encoded: base64) ?? Data()
        }
        let header = try #require(try JSONSerialization.jsonObject(with: decode(parts[0])) as? [String: Any])
        let payload = try #require(try JSONSerialization.jsonObject(with: decode(parts[1])) as? [String: Any])
        return (header, payload, parts[0] + "." + parts[1], decode(parts[2]))
    }

    @Test func decodesWithTheAPIKeySecretToTheDocumentedHeaderAndClaims() async throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let token = try await TwilioAccessToken.issue(
            configuration: try Self.configuration(), identity: "agent-7", params: ["conference": "conf-1"], ttl: 1800, now: now)
        let (header, payload, signingInput, signature) = try Self.segments(token)
        // The signature is HMAC-SHA256 under the API key secret, checked independently of jwt-kit.
        #expect(HMAC<SHA256>.isValidAuthenticationCode(
            signature, authenticating: Data(signingInput.utf8), using: SymmetricKey(data: Data(Self.keySecret.utf8))))
        #expect(header["alg"] as? String == "HS256")
        #expect(header["typ"] as? String == "JWT")
        #expect(header["cty"] as? String == "twilio-fpa;v=1")
        #expect(payload["iss"] as? String == "SK0123456789abcdef0123456789abcdef")
        #expect(payload["sub"] as? String == "AC0123456789abcdef0123456789abcdef")
        #expect(payload["jti"] as? String == "SK0123456789abcdef0123456789abcdef-1700000000")
        #expect(payload["nbf"] as? Int == 1_700_000_000)
        #expect(payload["exp"] as? Int == 1_700_001_800)
        let grants = try #require(payload["grants"] as? [String: Any])
        #expect(grants["identity"] as? String == "agent-7")
        let voice = try #require(grants["voice"] as? [String: Any])
        #expect((voice["incoming"] as? [String: Any])?["allow"] as? Bool == true)
        let outgoing = try #require(voice["outgoing"] as? [String: Any])
        #expect(outgoing["application_sid"] as? String == "AP0123456789abcdef0123456789abcdef")
        #expect(outgoing["params"] as? [String: String] == ["conference": "conf-1"])
        // Nothing but these claims, and never the auth token.
        #expect(Set(payload.keys) == ["iss", "sub", "jti", "nbf", "exp", "grants"])
        #expect(!token.contains("fedcba9876543210fedcba9876543210"))
    }

    @Test func aTokenNeverLivesLongerThanAnHour() async throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let token = try await TwilioAccessToken.issue(
            configuration: try Self.configuration(), identity: "a", params: [:], ttl: 86_400, now: now)
        #expect(try Self.segments(token).payload["exp"] as? Int == 1_700_003_600)
    }

    @Test func aConfigurationWithoutAnAPIKeyCannotIssueTokens() async throws {
        let bare = try TwilioConfiguration(document: [
            "account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "fedcba9876543210fedcba9876543210",
            "from_numbers": ["+14155550100"],
        ])
        await #expect(throws: TwilioAccessToken.IssueError.missingConfiguration("api_key_sid")) {
            _ = try await TwilioAccessToken.issue(configuration: bare, identity: "a", params: [:], ttl: 60)
        }
    }
}
