import Foundation
import Providers
import Testing

@Suite struct TelnyxSignatureTests {
    typealias Vector = WebhookVectors.Telnyx

    let signedAt = Date(timeIntervalSince1970: Vector.timestampSeconds)

    func officialRequest(headers: [(String, String)]? = nil, body: String = Vector.body) -> WebhookRequest {
        WebhookTesting.post(
            "https://switchboard.example/webhooks/telnyx",
            headers: headers ?? [("telnyx-signature-ed25519", Vector.signature), ("telnyx-timestamp", Vector.timestamp)],
            body: body)
    }

    @Test func acceptsTheOfficialVector() throws {
        try TelnyxSignature.verify(officialRequest(), publicKey: Vector.publicKey, now: signedAt)
    }

    @Test func theTestSeedSignsForTheOfficialPublicKey() throws {
        let key = try WebhookTesting.telnyxSigningKey()

        #expect(key.publicKey.rawRepresentation.base64EncodedString() == Vector.publicKey)
    }

    @Test func acceptsATimestamp299SecondsOld() throws {
        try TelnyxSignature.verify(officialRequest(), publicKey: Vector.publicKey, now: signedAt.addingTimeInterval(299))
    }

    @Test func acceptsATimestamp299SecondsAhead() throws {
        try TelnyxSignature.verify(officialRequest(), publicKey: Vector.publicKey, now: signedAt.addingTimeInterval(-299))
    }

    @Test func rejectsStaleTelnyxTimestamp() {
        #expect(throws: WebhookVerificationError.staleTimestamp) {
            try TelnyxSignature.verify(officialRequest(), publicKey: Vector.publicKey, now: signedAt.addingTimeInterval(301))
        }
    }

    @Test func rejectsATimestamp301SecondsInTheFuture() {
        #expect(throws: WebhookVerificationError.staleTimestamp) {
            try TelnyxSignature.verify(officialRequest(), publicKey: Vector.publicKey, now: signedAt.addingTimeInterval(-301))
        }
    }

    @Test func honoursACustomTolerance() {
        #expect(throws: WebhookVerificationError.staleTimestamp) {
            try TelnyxSignature.verify(
                officialRequest(), publicKey: Vector.publicKey, now: signedAt.addingTimeInterval(61), tolerance: 60)
        }
    }

    @Test func rejectsATamperedBody() {
        let request = officialRequest(body: #"{"data":{"event_type":"call.hangup"}}"#)

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TelnyxSignature.verify(request, publicKey: Vector.publicKey, now: signedAt)
        }
    }

    @Test func rejectsATamperedTimestamp() throws {
        let request = try WebhookTesting.telnyxRequest(timestamp: "1700000100", body: Vector.body, signedTimestamp: Vector.timestamp)

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TelnyxSignature.verify(request, publicKey: Vector.publicKey, now: signedAt)
        }
    }

    @Test func acceptsABodySignedWithTheTestKeyAtAnotherTime() throws {
        let request = try WebhookTesting.telnyxRequest(timestamp: "1700000100", body: #"{"data":{}}"#)

        try TelnyxSignature.verify(request, publicKey: Vector.publicKey, now: Date(timeIntervalSince1970: 1_700_000_100))
    }

    @Test func rejectsASignatureOverADifferentBody() throws {
        let request = try WebhookTesting.telnyxRequest(timestamp: Vector.timestamp, body: #"{"a":2}"#, signedBody: #"{"a":1}"#)

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TelnyxSignature.verify(request, publicKey: Vector.publicKey, now: signedAt)
        }
    }

    @Test func rejectsTheSignatureUnderAnotherPublicKey() {
        // RFC 8032 §7.1 test 2's public key.
        let otherKey = Data(WebhookTesting.bytes(hex: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"))
            .base64EncodedString()

        #expect(throws: WebhookVerificationError.invalidSignature) {
            try TelnyxSignature.verify(officialRequest(), publicKey: otherKey, now: signedAt)
        }
    }

    @Test func reportsAMissingSignatureHeader() {
        let request = officialRequest(headers: [("telnyx-timestamp", Vector.timestamp)])

        #expect(throws: WebhookVerificationError.missingSignature("telnyx-signature-ed25519")) {
            try TelnyxSignature.verify(request, publicKey: Vector.publicKey, now: signedAt)
        }
    }

    @Test func reportsAMissingTimestampHeader() {
        let request = officialRequest(headers: [("telnyx-signature-ed25519", Vector.signature)])

        #expect(throws: WebhookVerificationError.missingSignature("telnyx-timestamp")) {
            try TelnyxSignature.verify(request, publicKey: Vector.publicKey, now: signedAt)
        }
    }

    @Test func rejectsATimestampThatIsNotUnixSeconds() {
        let request = officialRequest(headers: [("telnyx-signature-ed25519", Vector.signature), ("telnyx-timestamp", "+1700000000")])

        #expect(throws: WebhookVerificationError.malformed("telnyx-timestamp is not Unix seconds")) {
            try TelnyxSignature.verify(request, publicKey: Vector.publicKey, now: signedAt)
        }
    }

    @Test func rejectsAPublicKeyThatIsNot32Bytes() {
        let shortKey = Data(repeating: 1, count: 31).base64EncodedString()

        #expect(throws: WebhookVerificationError.malformed("the Telnyx public key is not base64 of 32 bytes")) {
            try TelnyxSignature.verify(officialRequest(), publicKey: shortKey, now: signedAt)
        }
    }
}
