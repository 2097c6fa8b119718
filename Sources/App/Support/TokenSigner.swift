import Crypto
import Foundation
import Providers

/// The one signature scheme of the tokens this server hands out (conference tokens, media-stream
/// tokens): base64url(HMAC-SHA256) over a message, under a key every instance derives alike from
/// the master key. Each kind of token has its own signer (its own derived key) and its own message
/// layout (`ConferenceToken.swift`, `TokenSigner+Stream.swift`).
struct TokenSigner: Sendable {
    let key: SymmetricKey

    init(key: SymmetricKey) {
        self.key = key
    }

    /// The signature of `message`: base64url without padding, so it fits URLs and `|`-joined tokens.
    func signature(_ message: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether `signature` is this signer's signature of `message` (constant-time).
    func verify(_ signature: String, of message: String) -> Bool {
        ConstantTime.equals(Array(self.signature(message).utf8), Array(signature.utf8))
    }
}
