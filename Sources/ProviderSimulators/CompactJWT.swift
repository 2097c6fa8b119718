import Crypto
import Foundation

/// The HMAC-signed JSON Web Tokens the simulators check (Twilio access tokens) and issue (Telnyx login tokens).
enum CompactJWT {
    /// A token split into its decoded parts.
    struct Parts: Sendable {
        var header: [String: JSONValue]
        var claims: [String: JSONValue]
        /// `header.payload` as sent: the bytes the signature covers.
        var signingInput: String
        var signature: Data
    }

    /// base64url without padding.
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes base64url with or without padding; nil when it is not base64url.
    static func decodeBase64URL(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "=") })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            .replacingOccurrences(of: "=", with: "")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// Splits a compact JWT into header, claims and signature; nil unless it has three parts of base64url JSON objects.
    static func split(_ token: String) -> Parts? {
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard pieces.count == 3,
            let headerData = decodeBase64URL(pieces[0]), let header = JSONValue.parse(Array(headerData))?.objectValue,
            let claimsData = decodeBase64URL(pieces[1]), let claims = JSONValue.parse(Array(claimsData))?.objectValue,
            let signature = decodeBase64URL(pieces[2])
        else { return nil }
        return Parts(header: header, claims: claims, signingInput: pieces[0] + "." + pieces[1], signature: signature)
    }

    /// Whether `parts` carries an HS256 signature made with `secret`.
    static func hasValidHS256Signature(_ parts: Parts, secret: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            parts.signature, authenticating: Data(parts.signingInput.utf8), using: SymmetricKey(data: secret))
    }

    /// Whether `parts` carries an HS512 signature made with `secret`.
    static func hasValidHS512Signature(_ parts: Parts, secret: [UInt8]) -> Bool {
        HMAC<SHA512>.isValidAuthenticationCode(
            parts.signature, authenticating: Data(parts.signingInput.utf8), using: SymmetricKey(data: secret))
    }

    /// Signs `claims` with HS512 under `secret`.
    static func signHS512(claims: JSONValue, secret: [UInt8]) -> String {
        let header: JSONValue = ["alg": "HS512", "typ": "JWT"]
        let input = base64URL(Data(header.serialized())) + "." + base64URL(Data(claims.serialized()))
        let code = HMAC<SHA512>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + base64URL(Data(code))
    }
}
