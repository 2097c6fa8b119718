import Foundation
import Providers
import Testing

@Suite struct WebhookVerificationErrorTests {
    /// Secrets and signatures that must never appear in an error's description.
    let forbidden = [
        WebhookVectors.Twilio.authToken, WebhookVectors.Twilio.signature, WebhookVectors.Telnyx.signature,
        WebhookVectors.Vonage.secret, WebhookVectors.Vonage.token, WebhookVectors.Plivo.authToken, WebhookVectors.Plivo.signature,
    ]

    /// The errors each verifier throws for requests signed with the vectors but checked against the wrong input.
    func failures() -> [WebhookVerificationError] {
        let now = Date(timeIntervalSince1970: WebhookVectors.Telnyx.timestampSeconds)
        var errors: [WebhookVerificationError] = []
        let attempts: [() throws -> Void] = [
            {
                try TwilioSignature.verify(
                    WebhookTesting.post(
                        WebhookVectors.Twilio.url, headers: [("X-Twilio-Signature", WebhookVectors.Twilio.signature)], body: "x=1"),
                    authToken: WebhookVectors.Twilio.authToken)
            },
            {
                try TelnyxSignature.verify(
                    WebhookTesting.post(
                        "https://a.example/",
                        headers: [("telnyx-signature-ed25519", WebhookVectors.Telnyx.signature), ("telnyx-timestamp", "12x")],
                        body: ""),
                    publicKey: WebhookVectors.Telnyx.publicKey, now: now)
            },
            {
                try VonageSignature.verify(
                    WebhookTesting.post("https://a.example/", headers: [("Authorization", "Bearer \(WebhookVectors.Vonage.token)")], body: ""),
                    signatureSecret: WebhookVectors.Vonage.secret, now: now)
            },
            {
                try VonageSignature.verify(
                    WebhookTesting.post("https://a.example/", headers: [("Authorization", WebhookVectors.Vonage.token)], body: ""),
                    signatureSecret: WebhookVectors.Vonage.secret, now: now)
            },
            {
                try PlivoSignature.verify(
                    WebhookTesting.post(
                        WebhookVectors.Plivo.url,
                        headers: [("X-Plivo-Signature-V3", WebhookVectors.Plivo.signature), ("X-Plivo-Signature-V3-Nonce", "1")],
                        body: WebhookVectors.Plivo.formBody),
                    authToken: WebhookVectors.Plivo.authToken)
            },
        ]
        for attempt in attempts {
            do {
                try attempt()
            } catch let error as WebhookVerificationError {
                errors.append(error)
            } catch {
                Issue.record("unexpected error type")
            }
        }
        return errors
    }

    @Test func everyVerifierFailureIsReported() {
        #expect(failures().count == 5)
    }

    @Test func errorDescriptionsContainNoSecretOrSignature() {
        for error in failures() {
            for value in forbidden {
                #expect(!error.description.contains(value), "\(error.description)")
            }
        }
    }

    @Test func describesAMissingHeaderByName() {
        #expect(WebhookVerificationError.missingSignature("x-twilio-signature").description.contains("x-twilio-signature"))
    }
}
