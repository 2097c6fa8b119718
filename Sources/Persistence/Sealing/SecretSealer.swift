import Crypto
import Foundation

/// A document sealed under one master key.
public struct SealedValue: Sendable, Equatable {
    /// Which master key sealed it.
    public let keyID: String
    /// nonce ‖ ciphertext ‖ tag, as AES-GCM's combined representation.
    public let bytes: Data

    public init(keyID: String, bytes: Data) {
        self.keyID = keyID
        self.bytes = bytes
    }
}

/// Why a sealed value could not be opened.
public enum SealingError: Error, Equatable, CustomStringConvertible {
    /// The row names a master key this instance was not given.
    case unknownKeyID(String)
    /// Authentication failed: wrong key, tampered bytes, or a value moved to another row or tenant.
    case authenticationFailed(keyID: String)

    public var description: String {
        switch self {
        case .unknownKeyID(let id):
            "sealed with master key '\(id)', which is not in SWITCHBOARD_MASTER_KEYS; add it back to open this value"
        case .authenticationFailed(let id):
            "sealed value failed authentication under master key '\(id)' (tampered, or moved from another row)"
        }
    }
}

/// Seals and opens configuration documents with AES-256-GCM bound to their row.
///
/// The additional authenticated data names the organization, the configuration key and the
/// slot (current or previous), so a sealed value copied anywhere else fails to open.
public struct SecretSealer: Sendable {
    /// Which column of a row a sealed value belongs to.
    public enum Slot: String, Sendable {
        case current
        case previous
    }

    public let keyring: MasterKeyring

    public init(keyring: MasterKeyring) {
        self.keyring = keyring
    }

    /// Seals `plaintext` under the active key with a fresh random nonce.
    public func seal(_ plaintext: some DataProtocol, organizationID: UUID, key: String, slot: Slot = .current) throws
        -> SealedValue
    {
        try seal(plaintext, organizationID: organizationID, key: key, slot: slot, with: keyring.active)
    }

    func seal(
        _ plaintext: some DataProtocol, organizationID: UUID, key: String, slot: Slot, with master: MasterKeyring.Key
    ) throws -> SealedValue {
        let box = try AES.GCM.seal(
            plaintext, using: master.key, nonce: AES.GCM.Nonce(),
            authenticating: Self.associatedData(organizationID: organizationID, key: key, slot: slot))
        guard let combined = box.combined else {
            throw SealingError.authenticationFailed(keyID: master.id)
        }
        return SealedValue(keyID: master.id, bytes: combined)
    }

    /// Opens a value sealed for exactly this organization, key and slot.
    public func open(_ sealed: SealedValue, organizationID: UUID, key: String, slot: Slot = .current) throws(SealingError)
        -> Data
    {
        guard let master = keyring.key(withID: sealed.keyID) else {
            throw .unknownKeyID(sealed.keyID)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.bytes)
            return try AES.GCM.open(
                box, using: master.key,
                authenticating: Self.associatedData(organizationID: organizationID, key: key, slot: slot))
        } catch {
            throw .authenticationFailed(keyID: sealed.keyID)
        }
    }

    static func associatedData(organizationID: UUID, key: String, slot: Slot) -> Data {
        Data("switchboard/v1|\(organizationID.uuidString.lowercased())|\(key)|\(slot.rawValue)".utf8)
    }
}
