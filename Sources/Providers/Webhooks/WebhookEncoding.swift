import Foundation

/// Hex and base64 helpers shared by the webhook verifiers.
enum WebhookEncoding {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var characters: [UInt8] = []
        for byte in bytes {
            characters.append(hexDigits[Int(byte >> 4)])
            characters.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Standard padded base64 of `bytes`.
    static func base64(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
    }

    /// The bytes of standard padded base64 text, or nil when it is not base64.
    static func decodeBase64(_ text: some StringProtocol) -> [UInt8]? {
        Data(base64Encoded: String(text)).map { Array($0) }
    }

    /// The bytes of base64url text with or without padding (as in JWTs), or nil when it is not base64url.
    static func decodeBase64URL(_ text: some StringProtocol) -> [UInt8]? {
        var standard = String(text)
        // Accepting '+' or '/' would let two spellings of one token verify; JWTs use only the URL-safe alphabet.
        guard !standard.contains("+"), !standard.contains("/") else {
            return nil
        }
        standard = standard.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        switch standard.utf8.count % 4 {
        case 2: standard += "=="
        case 3: standard += "="
        case 1: return nil
        default: break
        }
        return decodeBase64(standard)
    }
}
