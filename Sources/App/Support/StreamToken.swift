import Crypto
import Foundation
import Providers

/// An HMAC over the ids a media stream belongs to, so a media socket cannot be opened by guessing them.
struct StreamToken: Sendable {
    let key: SymmetricKey

    /// A key every instance derives alike (from the shared active master key).
    init(key: SymmetricKey) {
        self.key = key
    }

    /// How long after the answer a media socket may be opened with the token.
    static let lifetime: TimeInterval = 600

    /// base64url(HMAC-SHA256(expiry ‖ organization ‖ workflow ‖ run)), each field length-prefixed
    /// so no two id combinations share a message. `expires` is Unix seconds.
    func token(organizationID: UUID, workflowID: String?, workflowRunID: String?, expires: Int) -> String {
        let message = [String(expires), organizationID.uuidString.lowercased(), workflowID ?? "", workflowRunID ?? ""]
            .map { "\($0.utf8.count):\($0)" }.joined()
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether `token` was issued for these ids and has not expired at `now` (constant-time).
    func isValid(
        _ token: String, organizationID: UUID, workflowID: String?, workflowRunID: String?, expires: Int, now: Date
    ) -> Bool {
        guard Double(expires) > now.timeIntervalSince1970 else { return false }
        let expected = self.token(
            organizationID: organizationID, workflowID: workflowID, workflowRunID: workflowRunID, expires: expires)
        return ConstantTime.equals(Array(expected.utf8), Array(token.utf8))
    }
}
