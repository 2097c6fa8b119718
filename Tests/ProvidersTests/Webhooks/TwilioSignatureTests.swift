import Providers
import Testing

@Suite struct TwilioSignatureTests {
    typealias Vector = WebhookVectors.Twilio

    func formRequest(url: String = Vector.url, signature: String = Vector.signature, body: String = Vector.formBody)
        -> WebhookRequest
    {
        WebhookTesting.post(url, headers: [("X-Twilio-Signature", signature)], body: body)
    }

    @Test func computesTheOfficialSignature() {
        #expect(TwilioSignature.compute(authToken: Vector.authToken, url: Vector.url, parameters: Vector.parameters) == Vector.signature)
    }

    @Test func computesTheOfficialSignatureOfTheURLWithPort443() {
        let signature = TwilioSignature.compute(authToken: Vector.authToken, url: Vector.urlWithPort443, parameters: Vector.parameters)

        #expect(signature == Vector.signatureWithPort443)
    }

    @Test func computesTheOfficialSignatureForRepeatedParametersSortedAndDeduplicated() {
        let signature = TwilioSignature.compute(authToken: Vector.authToken, url: Vector.url, parameters: Vector.repeatedParameters)

        #expect(signature == Vector.repeatedSignature)
    }

    @Test func computesTheOfficialSignatureOfTheJSONBodyURL() {
        #expect(TwilioSignature.compute(authToken: Vector.authToken, url: Vector.urlWithBodyHash, parameters: []) == Vector.jsonSignature)
    }

    @Test func acceptsThePortlessSignatureForTheURLWithoutAPort() {
        #expect(TwilioSignature.isValid(signature: Vector.signature, authToken: Vector.authToken, url: Vector.url, parameters: Vector.parameters))
    }

    @Test func acceptsThePort443SignatureForTheURLWithoutAPort() {
        #expect(
            TwilioSignature.isValid(
                signature: Vector.signatureWithPort443, authToken: Vector.authToken, url: Vector.url, parameters: Vector.parameters))
    }

    @Test func acceptsThePortlessSignatureForTheURLWrittenWithPort443() {
        #expect(
            TwilioSignature.isValid(
                signature: Vector.signature, authToken: Vector.authToken, url: Vector.urlWithPort443, parameters: Vector.parameters))
    }

    @Test func acceptsThePort443SignatureForTheURLWrittenWithPort443() {
        #expect(
            TwilioSignature.isValid(
                signature: Vector.signatureWithPort443, authToken: Vector.authToken, url: Vector.urlWithPort443,
                parameters: Vector.parameters))
    }

    @Test func acceptsTheSignatureOfAnHTTPURLWithANonDefaultPort() {
        #expect(
            TwilioSignature.isValid(
                signature: Vector.httpSignatureWithPort1234, authToken: Vector.authToken, url: Vector.httpURLWithPort1234,
                parameters: Vector.parameters))
    }

    @Test func acceptsThePort80SignatureForAnHTTPURLWithoutAPort() {
        #expect(
            TwilioSignature.isValid(
                signature: Vector.httpSignatureWithPort80, authToken: Vector.authToken, url: Vector.httpURL,
                parameters: Vector.parameters))
    }

    @Test func acceptsThePortlessSignatureForAURLWithANonDefaultPortAsTheSDKDoes() {
        #expect(
            TwilioSignature.isValid(
                signature: Vector.signature, authToken: Vector.authToken, url: Vector.httpsURLWithPort1234,
                parameters: Vector.parameters))
    }

    @Test func refusesTheOfficialSignatureWithAWrongAuthToken() {
        #expect(!TwilioSignature.isValid(signature: Vector.signature, authToken: "54321", url: Vector.url, parameters: Vector.parameters))
    }

    @Test func refusesAnEmptyAuthToken() {
        let signature = TwilioSignature.compute(authToken: "", url: Vector.url, parameters: Vector.parameters)

        #expect(!TwilioSignature.isValid(signature: signature, authToken: "", url: Vector.url, parameters: Vector.parameters))
    }

    @Test func verifiesTheOfficialFormRequest() throws {
        try TwilioSignature.verify(formRequest(), authToken: Vector.authToken)
    }

    @Test func verifiesTheOfficialJSONRequest() throws {
        let request = WebhookTesting.post(
            Vector.urlWithBodyHash, headers: [("X-Twilio-Signature", Vector.jsonSignature)], body: Vector.jsonBody)

        try TwilioSignature.verify(request, authToken: Vector.authToken)
    }

    @Test func refusesAJSONBodyThatDoesNotMatchItsHash() {
        let request = WebhookTesting.post(
            Vector.urlWithBodyHash, headers: [("X-Twilio-Signature", Vector.jsonSignature)],
            body: #"{"property": "value", "boolean": false}"#)

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TwilioSignature.verify(request, authToken: Vector.authToken)
        }
    }

    @Test func refusesATamperedParameter() {
        let request = formRequest(body: Vector.formBody.replacingOccurrences(of: "Digits=1234", with: "Digits=9999"))

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TwilioSignature.verify(request, authToken: Vector.authToken)
        }
    }

    @Test func refusesAnAddedParameter() {
        let request = formRequest(body: Vector.formBody + "&Extra=1")

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TwilioSignature.verify(request, authToken: Vector.authToken)
        }
    }

    @Test func refusesATamperedURL() {
        let request = formRequest(url: Vector.url.replacingOccurrences(of: "foo=1", with: "foo=2"))

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TwilioSignature.verify(request, authToken: Vector.authToken)
        }
    }

    @Test func reportsAMissingSignatureHeader() {
        let request = WebhookTesting.post(Vector.url, headers: [], body: Vector.formBody)

        #expect(throws: WebhookVerificationError.missingSignature("x-twilio-signature")) {
            try TwilioSignature.verify(request, authToken: Vector.authToken)
        }
    }
}
