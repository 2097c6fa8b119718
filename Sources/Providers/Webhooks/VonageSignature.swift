import Crypto
import Foundation

/// Vonage's signed webhooks: `Authorization: Bearer <JWT>`, HS256 under the account's signature secret,
/// with `payload_hash` (hex SHA-256 of the body) binding the body to the token.
///
/// Replay window: a token is refused when its `exp` (if present) has passed, or when its `iat` is more than
/// five minutes before or after `now`; Vonage's own docs leave the window to the receiver.
/// `iss` (`"Vonage"`), `api_key` and `application_id` are not checked: only Vonage and this server know the secret.
public enum VonageSignature {
    /// The header that carries the token, lowercased.
    static let header = "authorization"
    /// How far `iat` may be from `now`, in seconds.
    static let replayWindow: TimeInterval = 300

    /// Whether `token` is a compact JWT whose header says HS256 and whose signature is HMAC-SHA256 under `secret`; claims are not checked.
    public static func isValidSignature(token: String, secret: String) -> Bool {
        (try? verifiedClaims(token: token, secret: secret)) != nil
    }

    /// Verifies the token's signature, that `payload_hash` matches the body, and the replay window around `now`.
    public static func verify(_ request: WebhookRequest, signatureSecret: String, now: Date) throws(WebhookVerificationError) {
        guard let authorization = request.headers[header] else {
            throw .missingSignature(header)
        }
        let bearer = "bearer "
        guard authorization.lowercased().hasPrefix(bearer) else {
            throw .malformed("\(header) is not a Bearer token")
        }
        let token = String(authorization.dropFirst(bearer.count)).trimmingCharacters(in: .whitespaces)
        let claims = try verifiedClaims(token: token, secret: signatureSecret)

        let bodyHash = WebhookEncoding.hex(SHA256.hash(data: request.body))
        if let payloadHash = claims.payloadHash {
            guard ConstantTime.equals(bodyHash.utf8, payloadHash.lowercased().utf8) else {
                throw .invalidSignature
            }
        } else if !request.body.isEmpty {
            // Without payload_hash the token says nothing about the body, which could then be anything.
            throw .invalidSignature
        }

        guard let issuedAt = claims.issuedAt else {
            throw .malformed("the Vonage token has no iat claim")
        }
        let current = now.timeIntervalSince1970
        guard abs(current - issuedAt) <= replayWindow else {
            throw .staleTimestamp
        }
        if let expiresAt = claims.expiresAt, current >= expiresAt {
            throw .staleTimestamp
        }
    }

    /// The claims of `token` once its HS256 signature under `secret` checks out.
    static func verifiedClaims(token: String, secret: String) throws(WebhookVerificationError) -> Claims {
        // Anyone can compute an HMAC under an empty key.
        guard !secret.isEmpty else {
            throw .invalidSignature
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerBytes = WebhookEncoding.decodeBase64URL(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes))
        else {
            throw .malformed("the Vonage token is not a compact JWT")
        }
        // Only HS256: never "none", and never an asymmetric algorithm keyed by the shared secret.
        guard header.alg == "HS256" else {
            throw .invalidSignature
        }
        guard let signature = WebhookEncoding.decodeBase64URL(parts[2]) else {
            throw .invalidSignature
        }
        let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: signingInput, using: SymmetricKey(data: Array(secret.utf8)))
        else {
            throw .invalidSignature
        }
        guard let claimBytes = WebhookEncoding.decodeBase64URL(parts[1]),
            let claims = try? JSONDecoder().decode(Claims.self, from: Data(claimBytes))
        else {
            throw .malformed("the Vonage token's claims are not a JSON object")
        }
        return claims
    }

    /// The JOSE header fields that matter here.
    struct Header: Decodable {
        /// The signing algorithm.
        var alg: String
    }

    /// The claims that matter here.
    struct Claims: Decodable {
        /// `iat`, in Unix seconds.
        var issuedAt: Double?
        /// `exp`, in Unix seconds.
        var expiresAt: Double?
        /// `payload_hash`, hex SHA-256 of the body.
        var payloadHash: String?

        enum CodingKeys: String, CodingKey {
            case issuedAt = "iat"
            case expiresAt = "exp"
            case payloadHash = "payload_hash"
        }
    }
}
