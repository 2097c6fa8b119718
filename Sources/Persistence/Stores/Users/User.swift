import Crypto
import Foundation

/// What a console user may do; the raw values are the SQL's `users.role`.
public enum UserRole: String, Sendable, Codable, CaseIterable {
    /// Everything in the organization: providers, keys, users, audit, and the dialer.
    case admin
    /// The dialer, contacts and calls.
    case agent
}

/// A person who signs in to the web console; never carries the password hash.
public struct User: Sendable, Equatable {
    public let id: UUID
    public let organizationID: UUID
    /// Lowercased.
    public let email: String
    public let name: String
    public let role: UserRole
    /// False until the invited person has set a password.
    public let hasPassword: Bool
    public let disabledAt: Date?
    public let createdAt: Date
    public let lastSignInAt: Date?
}

/// A random secret handed to a browser (session id, invitation token, CSRF token): 43 base62
/// characters (≈ 256 bits) from the system's CSPRNG; only its SHA-256 is ever stored, except for
/// the CSRF token, which is not a credential on its own.
public struct RandomToken: Sendable, Equatable {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    static let length = 43

    /// The token as the browser holds it.
    public let value: String

    /// A new random token.
    public static func generate() -> RandomToken {
        var generator = SystemRandomNumberGenerator()
        return RandomToken(
            value: String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }))
    }

    /// A presented token; nil unless it has the shape of one this type generates.
    public init?(parsing presented: String) {
        guard presented.count == Self.length, presented.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return nil
        }
        value = presented
    }

    private init(value: String) {
        self.value = value
    }

    /// SHA-256 of the token, the form stored in PostgreSQL.
    var hash: Data { Data(SHA256.hash(data: Data(value.utf8))) }
}
