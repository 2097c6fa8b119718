import Foundation
import Providers
import Testing

@Suite struct WebhookVerifierTests {
    let now = Date(timeIntervalSince1970: WebhookVectors.Telnyx.timestampSeconds)

    var twilioRequest: WebhookRequest {
        WebhookTesting.post(
            WebhookVectors.Twilio.url, headers: [("X-Twilio-Signature", WebhookVectors.Twilio.signature)],
            body: WebhookVectors.Twilio.formBody)
    }

    @Test func acceptsASignatureMadeWithThePreviousSecretDuringRotation() throws {
        let secrets: [WebhookSecret] = [.twilioAuthToken("new-auth-token"), .twilioAuthToken(WebhookVectors.Twilio.authToken)]

        try WebhookVerifier.verify(twilioRequest, provider: .twilio, secrets: secrets, now: now)
    }

    @Test func refusesTheOldSecretsSignatureWhenOnlyTheNewSecretIsGiven() {
        #expect(throws: WebhookVerificationError.invalidSignature) {
            try WebhookVerifier.verify(twilioRequest, provider: .twilio, secrets: [.twilioAuthToken("new-auth-token")], now: now)
        }
    }

    @Test func verifiesTelnyxWithItsPublicKey() throws {
        let request = WebhookTesting.post(
            "https://switchboard.example/webhooks/telnyx",
            headers: [
                ("Telnyx-Signature-Ed25519", WebhookVectors.Telnyx.signature), ("Telnyx-Timestamp", WebhookVectors.Telnyx.timestamp),
            ],
            body: WebhookVectors.Telnyx.body)

        try WebhookVerifier.verify(request, provider: .telnyx, secrets: [.telnyxPublicKey(WebhookVectors.Telnyx.publicKey)], now: now)
    }

    @Test func verifiesVonageWithItsSignatureSecret() throws {
        let body = #"{"status":"ringing"}"#
        let token = WebhookTesting.hmacSignedToken(
            claims: WebhookTesting.vonageClaims(body: body, issuedAt: now.timeIntervalSince1970), secret: "vonage-secret")
        let request = WebhookTesting.post(
            "https://switchboard.example/webhooks/vonage", headers: [("Authorization", "Bearer \(token)")], body: body)

        try WebhookVerifier.verify(request, provider: .vonage, secrets: [.vonageSignatureSecret("vonage-secret")], now: now)
    }

    @Test func verifiesPlivoWithItsAuthToken() throws {
        let request = WebhookTesting.post(
            WebhookVectors.Plivo.url,
            headers: [("X-Plivo-Signature-V3", WebhookVectors.Plivo.signature), ("X-Plivo-Signature-V3-Nonce", WebhookVectors.Plivo.nonce)],
            body: WebhookVectors.Plivo.formBody)

        try WebhookVerifier.verify(request, provider: .plivo, secrets: [.plivoAuthToken(WebhookVectors.Plivo.authToken)], now: now)
    }

    @Test func ignoresSecretsOfOtherProviders() {
        let secrets: [WebhookSecret] = [.plivoAuthToken(WebhookVectors.Twilio.authToken)]

        #expect(throws: WebhookVerificationError.malformed("no twilio webhook secret is configured")) {
            try WebhookVerifier.verify(twilioRequest, provider: .twilio, secrets: secrets, now: now)
        }
    }

    @Test func reportsTheCurrentSecretsErrorWhenEverySecretFails() {
        let request = WebhookTesting.post(WebhookVectors.Twilio.url, headers: [], body: WebhookVectors.Twilio.formBody)

        #expect(throws: WebhookVerificationError.missingSignature("x-twilio-signature")) {
            try WebhookVerifier.verify(request, provider: .twilio, secrets: [.twilioAuthToken("a"), .twilioAuthToken("b")], now: now)
        }
    }
}
