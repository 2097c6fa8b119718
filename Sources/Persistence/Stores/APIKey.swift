import Crypto
import Foundation

/// What an API key may do.
public enum APIKeyRole: String, Sendable, Codable, CaseIterable {
    /// No organization; manages organizations and may act on any of them.
    case platform
    /// Its organization's configuration, keys and audit log.
    case admin
    /// Its organization's calls; reads configuration only in masked form.
    case service
}

/// An API key's record. Never holds the secret or its hash.
public struct APIKey: Sendable, Equatable, Codable {
    public let id: UUID
    public let organizationID: UUID?
    public let name: String
    public let prefix: String
    public let role: APIKeyRole
    public let createdAt: Date
    public let expiresAt: Date?
    public let revokedAt: Date?
    public let lastUsedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, role
        case organizationID = "organization_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
    }
}

/// The parts of a presented key: `sb_<prefix>_<secret>`, both base62.
public struct APIKeyToken: Sendable {
    static let prefixLength = 12
    static let secretLength = 40
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    public let prefix: String
    let secret: String

    /// The whole key as the client sends it.
    public var value: String { "sb_\(prefix)_\(secret)" }

    /// SHA-256 of the secret part, the only form stored.
    var secretHash: SHA256Digest { SHA256.hash(data: Data(secret.utf8)) }

    /// A new random key (base62 from the system's CSPRNG: 40 characters ≈ 238 bits).
    static func generate() -> APIKeyToken {
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> String {
            String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        }
        return APIKeyToken(prefix: random(prefixLength), secret: random(secretLength))
    }

    private init(prefix: String, secret: String) {
        self.prefix = prefix
        self.secret = secret
    }

    /// Parses a presented key; nil when it is not of the right shape.
    public init?(parsing presented: String) {
        let parts = presented.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "sb",
            parts[1].count == Self.prefixLength, parts[2].count == Self.secretLength,
            (parts[1] + parts[2]).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        self.prefix = String(parts[1])
        self.secret = String(parts[2])
    }
}

/// A key that passed authentication, with what the request context needs.
public struct AuthenticatedKey: Sendable, Equatable {
    public let id: UUID
    public let name: String
    public let role: APIKeyRole
    public let organizationID: UUID?
    public let organizationSlug: String?
}

/// Why a presented key was refused; deliberately coarse.
public enum AuthenticationFailure: Error, Equatable, CustomStringConvertible {
    case invalid
    case expired
    case revoked
    case organizationDisabled

    public var description: String {
        switch self {
        case .invalid: "the API key is not valid"
        case .expired: "the API key has expired"
        case .revoked: "the API key has been revoked"
        case .organizationDisabled: "the API key's organization is disabled"
        }
    }
}
