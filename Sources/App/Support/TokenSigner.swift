import Crypto
import Foundation
import Persistence
import Providers

/// The one signature scheme of the tokens this server hands out (conference tokens, media-stream
/// tokens): base64url(HMAC-SHA256) over a message, under a key every instance derives alike from
/// the master keys. Each kind of token has its own signer (its own derived keys) and its own
/// message layout (`ConferenceToken.swift`, `TokenSigner+Stream.swift`).
///
/// A signature names the master key it was made under — `<key id>.<mac>` — so a token handed out
/// before a rotation keeps verifying while its key is still in `SWITCHBOARD_MASTER_KEYS`, and
/// instances of a rolling restart accept each other's tokens. (Key ids never hold `|`, and the
/// base64url mac never holds `.`, so the last `.` separates the two.)
struct TokenSigner: Sendable {
    /// One derived signing key, named by the id of the master key it comes from.
    struct Key: Sendable {
        let id: String
        let key: SymmetricKey
    }

    /// The key new signatures use (derived from the active master key).
    let active: Key
    private let keysByID: [String: Key]

    /// A signer with `keys`, the first active; later keys only verify.
    init(keys: [Key]) {
        precondition(!keys.isEmpty, "a token signer needs a key")
        active = keys[0]
        keysByID = Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The keys for `purpose` derived from every master key of `keyring`, the active one signing.
    init(keyring: MasterKeyring, purpose: String) {
        self.init(keys: keyring.derivedKeys(purpose: purpose).map { Key(id: $0.id, key: $0.key) })
    }

    /// The signature of `message`: `<key id>.<base64url mac>`, so it fits URLs and `|`-joined tokens.
    func signature(_ message: String) -> String {
        active.id + "." + Self.mac(message, key: active.key)
    }

    /// Whether `signature` is a signature of `message` under a key this signer still holds
    /// (constant-time in the mac). A signature without a key id (issued before key ids existed)
    /// is checked against the active key, as it was signed.
    func verify(_ signature: String, of message: String) -> Bool {
        let key: Key?
        let mac: Substring
        if let dot = signature.lastIndex(of: ".") {
            key = keysByID[String(signature[..<dot])]
            mac = signature[signature.index(after: dot)...]
        } else {
            key = active
            mac = Substring(signature)
        }
        guard let key else { return false }
        return ConstantTime.equals(Array(Self.mac(message, key: key.key).utf8), Array(mac.utf8))
    }

    static func mac(_ message: String, key: SymmetricKey) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
