import Foundation
import Providers
import Testing

@Suite struct VonageSignatureTests {
    typealias Vector = WebhookVectors.Vonage

    let secret = "test-only-vonage-signature-secret"
    let body = #"{"status":"answered","uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356"}"#
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    func request(token: String, body: String? = nil) -> WebhookRequest {
        WebhookTesting.post(
            "https://switchboard.example/webhooks/vonage", headers: [("Authorization", "Bearer \(token)")], body: body ?? self.body)
    }

    func signedToken(issuedAt: Double? = nil, extraClaims: String = "", secret: String? = nil) -> String {
        WebhookTesting.hmacSignedToken(
            claims: WebhookTesting.vonageClaims(
                body: body, issuedAt: issuedAt ?? now.timeIntervalSince1970 - 10, extra: extraClaims),
            secret: secret ?? self.secret)
    }

    @Test func acceptsTheOfficialTokenSignature() {
        #expect(VonageSignature.isValidSignature(token: Vector.token, secret: Vector.secret))
    }

    @Test func refusesTheOfficialTokenWithAWrongSecret() {
        #expect(!VonageSignature.isValidSignature(token: Vector.token, secret: Vector.wrongSecret))
    }

    @Test func refusesTheOfficialTokenWithTamperedClaims() {
        var parts = Vector.token.split(separator: ".").map(String.init)
        parts[1] = WebhookTesting.base64URL(Array(#"{"iss":"Vonage","iat":1697634680}"#.utf8))

        #expect(!VonageSignature.isValidSignature(token: parts.joined(separator: "."), secret: Vector.secret))
    }

    @Test func refusesTheOfficialTokenAsAWebhookBecauseItsIatIsOld() {
        let request = request(token: Vector.token, body: "")

        #expect(throws: WebhookVerificationError.staleTimestamp) {
            try VonageSignature.verify(request, signatureSecret: Vector.secret, now: now)
        }
    }

    @Test func verifiesASignedWebhook() throws {
        try VonageSignature.verify(request(token: signedToken()), signatureSecret: secret, now: now)
    }

    @Test func acceptsALowercaseBearerScheme() throws {
        let request = WebhookTesting.post(
            "https://switchboard.example/webhooks/vonage", headers: [("authorization", "bearer \(signedToken())")], body: body)

        try VonageSignature.verify(request, signatureSecret: secret, now: now)
    }

    @Test func refusesAWebhookSignedWithAnotherSecret() {
        #expect(throws: WebhookVerificationError.invalidSignature) {
            try VonageSignature.verify(request(token: signedToken(secret: "another-secret")), signatureSecret: secret, now: now)
        }
    }

    @Test func refusesATamperedBody() {
        let request = request(token: signedToken(), body: body.replacingOccurrences(of: "answered", with: "completed"))

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try VonageSignature.verify(request, signatureSecret: secret, now: now)
        }
    }

    @Test func refusesABodyWhenTheTokenHasNoPayloadHash() {
        let token = WebhookTesting.hmacSignedToken(
            claims: #"{"iat":\#(Int(now.timeIntervalSince1970)),"iss":"Vonage"}"#, secret: secret)

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try VonageSignature.verify(request(token: token), signatureSecret: secret, now: now)
        }
    }

    @Test func refusesAnAlgNoneToken() {
        let claims = WebhookTesting.vonageClaims(body: body, issuedAt: now.timeIntervalSince1970)
        let token = WebhookTesting.base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "."
            + WebhookTesting.base64URL(Array(claims.utf8)) + "."

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try VonageSignature.verify(request(token: token), signatureSecret: secret, now: now)
        }
    }

    @Test func refusesAnRS256HeaderEvenWhenHMACSignedWithTheSecret() {
        let token = WebhookTesting.hmacSignedToken(
            header: #"{"alg":"RS256","typ":"JWT"}"#,
            claims: WebhookTesting.vonageClaims(body: body, issuedAt: now.timeIntervalSince1970), secret: secret)

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try VonageSignature.verify(request(token: token), signatureSecret: secret, now: now)
        }
    }

    @Test func refusesAnIatOlderThanFiveMinutes() {
        let token = signedToken(issuedAt: now.timeIntervalSince1970 - 301)

        #expect(throws: WebhookVerificationError.staleTimestamp) {
            try VonageSignature.verify(request(token: token), signatureSecret: secret, now: now)
        }
    }

    @Test func refusesAnIatMoreThanFiveMinutesAhead() {
        let token = signedToken(issuedAt: now.timeIntervalSince1970 + 301)

        #expect(throws: WebhookVerificationError.staleTimestamp) {
            try VonageSignature.verify(request(token: token), signatureSecret: secret, now: now)
        }
    }

    @Test func refusesAnExpiredToken() {
        let token = signedToken(extraClaims: #","exp":\#(Int(now.timeIntervalSince1970) - 1)"#)

        #expect(throws: WebhookVerificationError.staleTimestamp) {
            try VonageSignature.verify(request(token: token), signatureSecret: secret, now: now)
        }
    }

    @Test func refusesATokenWithoutIat() {
        let token = WebhookTesting.hmacSignedToken(
            claims: #"{"iss":"Vonage","payload_hash":"\#(WebhookTesting.sha256Hex(body))"}"#, secret: secret)

        #expect(throws: WebhookVerificationError.malformed("the Vonage token has no iat claim")) {
            try VonageSignature.verify(request(token: token), signatureSecret: secret, now: now)
        }
    }

    @Test func reportsAMissingAuthorizationHeader() {
        let request = WebhookTesting.post("https://switchboard.example/webhooks/vonage", headers: [], body: body)

        #expect(throws: WebhookVerificationError.missingSignature("authorization")) {
            try VonageSignature.verify(request, signatureSecret: secret, now: now)
        }
    }

    @Test func rejectsANonBearerAuthorization() {
        let request = WebhookTesting.post(
            "https://switchboard.example/webhooks/vonage", headers: [("Authorization", "Basic YTpi")], body: body)

        #expect(throws: WebhookVerificationError.malformed("authorization is not a Bearer token")) {
            try VonageSignature.verify(request, signatureSecret: secret, now: now)
        }
    }
}
