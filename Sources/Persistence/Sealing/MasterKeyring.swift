import Crypto
import Foundation

/// The master keys that seal configuration documents: the first is active, the rest can still open.
public struct MasterKeyring: Sendable {
    /// One named 256-bit master key.
    public struct Key: Sendable {
        public let id: String
        let key: SymmetricKey
    }

    /// A malformed `SWITCHBOARD_MASTER_KEYS` value; the message never contains key material.
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The key new seals use.
    public let active: Key
    private let keysByID: [String: Key]

    /// The ids of every key, active first.
    public let keyIDs: [String]

    /// Builds a keyring from keys; the first is active.
    public init(keys: [Key]) throws(ParseError) {
        guard let first = keys.first else {
            throw ParseError(description: "no master key given")
        }
        var byID: [String: Key] = [:]
        for key in keys {
            guard byID[key.id] == nil else {
                throw ParseError(description: "master key id '\(key.id)' appears twice")
            }
            byID[key.id] = key
        }
        self.active = first
        self.keysByID = byID
        self.keyIDs = keys.map(\.id)
    }

    /// Parses `id:base64(32 bytes)[,id:base64…]`, the format of `SWITCHBOARD_MASTER_KEYS`.
    public init(parsing value: String) throws(ParseError) {
        var keys: [Key] = []
        for (index, entry) in value.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw ParseError(description: "master key #\(index + 1) is not of the form id:base64")
            }
            let id = String(trimmed[..<colon])
            guard Self.isValidID(id) else {
                throw ParseError(
                    description: "master key #\(index + 1) has an invalid id (use 1-64 of A-Z a-z 0-9 . _ -)")
            }
            guard let bytes = Data(base64Encoded: String(trimmed[trimmed.index(after: colon)...])),
                bytes.count == 32
            else {
                throw ParseError(description: "master key '\(id)' is not the base64 of exactly 32 bytes")
            }
            keys.append(Key(id: id, key: SymmetricKey(data: bytes)))
        }
        try self.init(keys: keys)
    }

    /// Makes a key from raw bytes (tests and key generation).
    public static func key(id: String, bytes: some ContiguousBytes) -> Key {
        Key(id: id, key: SymmetricKey(data: bytes))
    }

    /// Generates a fresh random key.
    public static func generateKey(id: String) -> Key {
        Key(id: id, key: SymmetricKey(size: .bits256))
    }

    /// A key for another purpose, derived from the active master key with HKDF-SHA256, so
    /// deployments manage one secret. Whatever must stay verifiable across a rotation (tokens
    /// already handed out) uses `derivedKeys(purpose:)` instead.
    public func derivedKey(purpose: String) -> SymmetricKey {
        Self.derive(active.key, purpose: purpose)
    }

    /// The key for `purpose` derived from every master key, active first, each named by the id of
    /// its master key: sign with the first, verify with the one a token names, so tokens survive
    /// putting a new key first and stop verifying once their key is dropped.
    public func derivedKeys(purpose: String) -> [(id: String, key: SymmetricKey)] {
        keyIDs.compactMap { id in keysByID[id].map { (id: id, key: Self.derive($0.key, purpose: purpose)) } }
    }

    private static func derive(_ key: SymmetricKey, purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("switchboard/\(purpose)".utf8), outputByteCount: 32)
    }

    /// The key with this id, if the keyring holds it.
    public func key(withID id: String) -> Key? {
        keysByID[id]
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64
            && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0) }
            && id.allSatisfy(\.isASCII)
    }
}
