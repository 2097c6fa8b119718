import Crypto
import Foundation

/// Telnyx's `telnyx-signature-ed25519`: Ed25519 over `"{timestamp}|{raw body}"`, with a timestamp window against replay.
public enum TelnyxSignature {
    /// The header that carries the base64 signature, lowercased.
    static let signatureHeader = "telnyx-signature-ed25519"
    /// The header that carries the Unix-seconds timestamp, lowercased.
    static let timestampHeader = "telnyx-timestamp"

    /// Verifies `request` with the account's base64 Ed25519 `publicKey`, refusing timestamps more than `tolerance` seconds from `now`.
    public static func verify(
        _ request: WebhookRequest, publicKey: String, now: Date, tolerance: TimeInterval = 300
    ) throws(WebhookVerificationError) {
        guard let signatureText = request.headers[signatureHeader] else {
            throw .missingSignature(signatureHeader)
        }
        guard let timestamp = request.headers[timestampHeader] else {
            throw .missingSignature(timestampHeader)
        }
        guard let keyBytes = WebhookEncoding.decodeBase64(publicKey), keyBytes.count == 32,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else {
            throw .malformed("the Telnyx public key is not base64 of 32 bytes")
        }
        guard !timestamp.isEmpty, timestamp.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let seconds = Int64(timestamp)
        else {
            throw .malformed("\(timestampHeader) is not Unix seconds")
        }
        guard let signature = WebhookEncoding.decodeBase64(signatureText), signature.count == 64 else {
            throw .malformed("\(signatureHeader) is not base64 of 64 bytes")
        }
        // The timestamp is signed exactly as sent, so its spelling cannot be changed.
        let message = Array("\(timestamp)|".utf8) + request.body
        guard key.isValidSignature(signature, for: message) else {
            throw .invalidSignature
        }
        // Checked after the signature, so `staleTimestamp` means an authentic but replayed or delayed webhook.
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else {
            throw .staleTimestamp
        }
    }
}
