import Foundation

/// Random identifiers in the formats the real providers use.
enum RandomIdentifier {
    private static let hexDigits = Array("0123456789abcdef")
    private static let upperAlphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    private static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// `count` lowercase hexadecimal digits.
    static func hex(_ count: Int) -> String {
        String((0..<count).map { _ in hexDigits.randomElement() ?? "0" })
    }

    /// `count` decimal digits, the first never zero.
    static func digits(_ count: Int) -> String {
        let first = String(Int.random(in: 1...9))
        return first + String((1..<max(count, 1)).map { _ in Character(String(Int.random(in: 0...9))) })
    }

    /// `count` characters from A–Z and 0–9.
    static func upperAlphanumeric(_ count: Int) -> String {
        String((0..<count).map { _ in upperAlphanumerics.randomElement() ?? "A" })
    }

    /// `count` characters from A–Z, a–z and 0–9.
    static func alphanumeric(_ count: Int) -> String {
        String((0..<count).map { _ in alphanumerics.randomElement() ?? "a" })
    }

    /// A lowercase UUID string.
    static func uuid() -> String {
        UUID().uuidString.lowercased()
    }

    /// URL-safe base64 of `count` random bytes, without padding.
    static func base64URL(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
