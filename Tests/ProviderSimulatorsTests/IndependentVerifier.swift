import Crypto
import Foundation
import _CryptoExtras

/// Webhook signature checks written from the providers' documentation, independent of the simulator's signers.
enum IndependentVerifier {
    /// Twilio: base64(HMAC-SHA1(token, url + sorted name+value pairs)).
    static func twilio(token: String, url: String, parameters: [(String, String)], signature: String) -> Bool {
        let data = url + parameters.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(data.utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(mac).base64EncodedString() == signature
    }

    /// Plivo V3 for a POST to a URL without query: base64(HMAC-SHA256(token, url + "?" + sorted name+value + "." + nonce)).
    static func plivoV3(
        token: String, url: String, parameters: [(String, String)], nonce: String, signature: String
    ) -> Bool {
        let sortedParameters = parameters.sorted { $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        let data = url + "?" + sortedParameters + "." + nonce
        let mac = HMAC<SHA256>.authenticationCode(for: Data(data.utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(mac).base64EncodedString() == signature
    }

    /// Plivo V2: base64(HMAC-SHA256(token, url without query + nonce)).
    static func plivoV2(token: String, urlWithoutQuery: String, nonce: String, signature: String) -> Bool {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data((urlWithoutQuery + nonce).utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(mac).base64EncodedString() == signature
    }

    /// Telnyx: Ed25519 over "timestamp|body" with the account's public key.
    static func telnyx(publicKeyBase64: String, timestamp: String, body: [UInt8], signature: String) -> Bool {
        guard let keyData = Data(base64Encoded: publicKeyBase64),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
            let signatureData = Data(base64Encoded: signature)
        else { return false }
        return key.isValidSignature(signatureData, for: Data((timestamp + "|").utf8) + Data(body))
    }

    /// Vonage: an HS256 JWT with the signature secret whose `payload_hash` is the body's SHA-256; returns its claims.
    static func vonage(authorization: String?, secret: String, body: [UInt8]) -> [String: Any]? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        let parts = authorization.dropFirst("Bearer ".count).split(separator: ".").map(String.init)
        guard parts.count == 3,
            let header = decodeJSON(parts[0]), header["alg"] as? String == "HS256",
            let claims = decodeJSON(parts[1])
        else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(parts[0]).\(parts[1])".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        guard base64URL(Data(mac)) == parts[2] else { return nil }
        let hash = SHA256.hash(data: Data(body)).map { String(format: "%02x", $0) }.joined()
        guard claims["payload_hash"] as? String == hash else { return nil }
        return claims
    }

    /// An RS256 application JWT as Vonage's SDKs make one.
    static func vonageApplicationJWT(
        privateKeyPEM: String, applicationID: String, issuedAt: Date = Date(), expiresIn: TimeInterval? = 900
    ) throws -> String {
        var claims: [String: Any] = [
            "application_id": applicationID, "iat": Int(issuedAt.timeIntervalSince1970), "jti": UUID().uuidString,
        ]
        if let expiresIn { claims["exp"] = Int(issuedAt.timeIntervalSince1970 + expiresIn) }
        let header = base64URL(try JSONSerialization.data(withJSONObject: ["alg": "RS256", "typ": "JWT"]))
        let payload = base64URL(try JSONSerialization.data(withJSONObject: claims))
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        let signature = try key.signature(for: Data("\(header).\(payload)".utf8), padding: .insecurePKCS1v1_5)
        return "\(header).\(payload).\(base64URL(signature.rawRepresentation))"
    }

    /// An HS256 JWT with the given secret, for checking that the Voice API insists on RS256.
    static func hs256JWT(secret: String, claims: [String: Any]) throws -> String {
        let header = base64URL(try JSONSerialization.data(withJSONObject: ["alg": "HS256", "typ": "JWT"]))
        let payload = base64URL(try JSONSerialization.data(withJSONObject: claims))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(header).\(payload)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(payload).\(base64URL(Data(mac)))"
    }

    /// A Twilio access token for the Voice JS SDK, built as Twilio documents it: HS256 with the API key secret,
    /// header `cty: twilio-fpa;v=1`, `iss` the key SID, `sub` the account SID, a voice grant.
    static func twilioAccessToken(
        accountSID: String, keySID: String, secret: String, identity: String, applicationSID: String,
        params: [String: String] = [:], issuedAt: Date = Date(), ttl: TimeInterval = 3600,
        contentType: String = "twilio-fpa;v=1"
    ) throws -> String {
        var outgoing: [String: Any] = ["application_sid": applicationSID]
        if !params.isEmpty { outgoing["params"] = params }
        let issued = Int(issuedAt.timeIntervalSince1970)
        let claims: [String: Any] = [
            "jti": "\(keySID)-\(issued)", "iss": keySID, "sub": accountSID, "nbf": issued, "exp": issued + Int(ttl),
            "grants": ["identity": identity, "voice": ["outgoing": outgoing, "incoming": ["allow": true]]],
        ]
        let header = base64URL(
            try JSONSerialization.data(withJSONObject: ["alg": "HS256", "typ": "JWT", "cty": contentType]))
        let payload = base64URL(try JSONSerialization.data(withJSONObject: claims))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(header).\(payload)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(payload).\(base64URL(Data(mac)))"
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decodeJSON(_ segment: String) -> [String: Any]? {
        var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
