import Providers
import Testing

@Suite struct PlivoSignatureTests {
    typealias Vector = WebhookVectors.Plivo

    func request(signature: String = Vector.signature, nonce: String = Vector.nonce, url: String = Vector.url, body: String = Vector.formBody)
        -> WebhookRequest
    {
        WebhookTesting.post(url, headers: [("X-Plivo-Signature-V3", signature), ("X-Plivo-Signature-V3-Nonce", nonce)], body: body)
    }

    @Test func computesTheOfficialV3Signature() {
        let signature = PlivoSignature.computeV3(
            authToken: Vector.authToken, method: "POST", url: Vector.url, parameters: Vector.parameters, nonce: Vector.nonce)

        #expect(signature == Vector.signature)
    }

    @Test func theOfficialV3SignatureSignsTheOfficialString() {
        #expect(WebhookTesting.hmacSHA256Base64(Vector.signedString, key: Vector.authToken) == Vector.signature)
    }

    @Test func computesTheOfficialV2Signature() {
        #expect(PlivoSignature.computeV2(authToken: Vector.authToken, url: Vector.v2URL, nonce: Vector.v2Nonce) == Vector.v2Signature)
    }

    @Test func computesADifferentV2SignatureForTheOfficialWrongToken() {
        #expect(PlivoSignature.computeV2(authToken: Vector.v2WrongAuthToken, url: Vector.v2URL, nonce: Vector.v2Nonce) != Vector.v2Signature)
    }

    @Test func signsTheSortedQueryThenADotThenThePostParameters() {
        let expected = WebhookTesting.hmacSHA256Base64(
            "https://example.com/answer?a=1&b=x y.CallUUIDabc.12345", key: Vector.authToken)

        let signature = PlivoSignature.computeV3(
            authToken: Vector.authToken, method: "POST", url: "https://example.com/answer?b=x+y&a=1#top",
            parameters: [("CallUUID", "abc")], nonce: Vector.nonce)

        #expect(signature == expected)
    }

    @Test func signsAGetRequestsSortedQueryWithoutADot() {
        let expected = WebhookTesting.hmacSHA256Base64("https://example.com/answer?a=1&a=2&b=3.12345", key: Vector.authToken)

        let signature = PlivoSignature.computeV3(
            authToken: Vector.authToken, method: "GET", url: "https://example.com/answer?b=3&a=2&a=1", parameters: [],
            nonce: Vector.nonce)

        #expect(signature == expected)
    }

    @Test func verifiesTheOfficialRequest() throws {
        try PlivoSignature.verify(request(), authToken: Vector.authToken)
    }

    @Test func acceptsAHeaderWithSeveralSignaturesWhenOneIsValid() throws {
        let header = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,\(Vector.signature),bm90LWEtc2lnbmF0dXJl"

        try PlivoSignature.verify(request(signature: header), authToken: Vector.authToken)
    }

    @Test func refusesAHeaderWhoseSignaturesAreAllInvalid() {
        let header = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,bm90LWEtc2lnbmF0dXJl"

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try PlivoSignature.verify(request(signature: header), authToken: Vector.authToken)
        }
    }

    @Test func refusesATamperedParameter() {
        let body = Vector.formBody.replacingOccurrences(of: "CallUUID=abc", with: "CallUUID=abd")

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try PlivoSignature.verify(request(body: body), authToken: Vector.authToken)
        }
    }

    @Test func refusesATamperedNonce() {
        #expect(throws: WebhookVerificationError.invalidSignature) {
            try PlivoSignature.verify(request(nonce: "12346"), authToken: Vector.authToken)
        }
    }

    @Test func refusesATamperedURL() {
        #expect(throws: WebhookVerificationError.invalidSignature) {
            try PlivoSignature.verify(request(url: "https://example.com/answer2"), authToken: Vector.authToken)
        }
    }

    @Test func refusesAWrongAuthToken() {
        #expect(throws: WebhookVerificationError.invalidSignature) {
            try PlivoSignature.verify(request(), authToken: "my_other_token")
        }
    }

    @Test func reportsAMissingSignatureHeader() {
        let request = WebhookTesting.post(Vector.url, headers: [("X-Plivo-Signature-V3-Nonce", Vector.nonce)], body: Vector.formBody)

        #expect(throws: WebhookVerificationError.missingSignature("x-plivo-signature-v3")) {
            try PlivoSignature.verify(request, authToken: Vector.authToken)
        }
    }

    @Test func reportsAMissingNonceHeader() {
        let request = WebhookTesting.post(Vector.url, headers: [("X-Plivo-Signature-V3", Vector.signature)], body: Vector.formBody)

        #expect(throws: WebhookVerificationError.missingSignature("x-plivo-signature-v3-nonce")) {
            try PlivoSignature.verify(request, authToken: Vector.authToken)
        }
    }
}
