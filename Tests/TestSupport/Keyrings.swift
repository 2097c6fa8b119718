import Foundation
import Persistence

/// Test-only master keys (never used outside tests).
public enum TestKeys {
    /// A keyring with one fresh random key.
    public static func keyring(_ ids: String...) throws -> MasterKeyring {
        try MasterKeyring(keys: (ids.isEmpty ? ["test-1"] : ids).map { MasterKeyring.generateKey(id: $0) })
    }
}
