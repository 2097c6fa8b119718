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

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard padded base64 of `bytes` as ASCII bytes, for comparing a computed MAC with a header
    /// in constant time without making a `String` first.
    static func base64Bytes(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        func character(_ chunk: UInt32, _ shift: UInt32) -> UInt8 { base64Alphabet[Int(chunk >> shift & 63)] }
        var index = 0
        while index + 2 < input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output += [character(chunk, 18), character(chunk, 12), character(chunk, 6), character(chunk, 0)]
            index += 3
        }
        switch input.count - index {
        case 1:
            let chunk = UInt32(input[index]) << 16
            output += [character(chunk, 18), character(chunk, 12), UInt8(ascii: "="), UInt8(ascii: "=")]
        case 2:
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            output += [character(chunk, 18), character(chunk, 12), character(chunk, 6), UInt8(ascii: "=")]
        default:
            break
        }
        return output
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
