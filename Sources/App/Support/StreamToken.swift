import Crypto
import Foundation

/// An HMAC over the ids a media stream belongs to, so a media socket cannot be opened by guessing them.
struct StreamToken: Sendable {
    let key: SymmetricKey

    /// A key every instance derives alike (from the shared active master key).
    init(key: SymmetricKey) {
        self.key = key
    }

    /// base64url(HMAC-SHA256(organization ‖ workflow ‖ run)).
    func token(organizationID: UUID, workflowID: String?, workflowRunID: String?) -> String {
        let message = [organizationID.uuidString.lowercased(), workflowID ?? "", workflowRunID ?? ""]
            .joined(separator: "\u{1F}")
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether `token` was issued for these ids (constant-time).
    func isValid(_ token: String, organizationID: UUID, workflowID: String?, workflowRunID: String?) -> Bool {
        let expected = self.token(organizationID: organizationID, workflowID: workflowID, workflowRunID: workflowRunID)
        guard expected.utf8.count == token.utf8.count else { return false }
        return zip(expected.utf8, token.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
