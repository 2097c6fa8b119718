import Crypto
import Foundation
import Providers

/// Builders for webhook tests; signing here uses swift-crypto directly, never the code under test.
enum WebhookTesting {
    /// A POST with a form or JSON body.
    static func post(_ url: String, headers: [(String, String)], body: String) -> WebhookRequest {
        WebhookRequest(method: "POST", url: url, headers: headers, body: Array(body.utf8))
    }

    /// Bytes from hex text; test fixtures only.
    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).compactMap { index in
            UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)
        }
    }

    /// Lowercase hex of SHA-256 of `text`.
    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    /// Unpadded base64url of `bytes`.
    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A compact JWT with `header` and `claims` (JSON text), HMAC-SHA256-signed with `secret` whatever the header says.
    static func hmacSignedToken(header: String = #"{"alg":"HS256","typ":"JWT"}"#, claims: String, secret: String) -> String {
        let signingInput = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array(signingInput.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return signingInput + "." + base64URL(mac)
    }

    /// Vonage-shaped claims for `body`, issued at `issuedAt`.
    static func vonageClaims(body: String, issuedAt: Double, extra: String = "") -> String {
        #"{"iat":\#(Int(issuedAt)),"jti":"c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5","iss":"Vonage","#
            + #""payload_hash":"\#(sha256Hex(body))","api_key":"a1b2c3d4","#
            + #""application_id":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"\#(extra)}"#
    }

    /// Base64 HMAC-SHA256 of `message` under `key`.
    static func hmacSHA256Base64(_ message: String, key: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(key.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// The RFC 8032 test 1 signing key.
    static func telnyxSigningKey() throws -> Curve25519.Signing.PrivateKey {
        try Curve25519.Signing.PrivateKey(rawRepresentation: bytes(hex: WebhookVectors.Telnyx.privateKeySeedHex))
    }

    /// A Telnyx webhook for `body` at `timestamp`, signed with the RFC 8032 test 1 key over `signedTimestamp|signedBody`.
    static func telnyxRequest(
        timestamp: String, body: String, signedTimestamp: String? = nil, signedBody: String? = nil
    ) throws -> WebhookRequest {
        let message = Array("\(signedTimestamp ?? timestamp)|\(signedBody ?? body)".utf8)
        let signature = try telnyxSigningKey().signature(for: message)
        return post(
            "https://switchboard.example/webhooks/telnyx",
            headers: [
                ("Telnyx-Signature-Ed25519", Data(signature).base64EncodedString()), ("Telnyx-Timestamp", timestamp),
            ],
            body: body)
    }
}
