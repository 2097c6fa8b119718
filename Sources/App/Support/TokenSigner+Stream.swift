import Foundation

/// Media-stream tokens: a signature over the ids a media stream belongs to, so a media socket
/// cannot be opened by guessing them.
extension TokenSigner {
    /// How long after the answer a media socket may be opened with the token.
    static let streamTokenLifetime: TimeInterval = 600

    /// base64url(HMAC-SHA256(expiry ‖ organization ‖ workflow ‖ run)), each field length-prefixed
    /// so no two id combinations share a message. `expires` is Unix seconds.
    func streamToken(organizationID: UUID, workflowID: String?, workflowRunID: String?, expires: Int) -> String {
        signature(Self.streamMessage(organizationID: organizationID, workflowID: workflowID, workflowRunID: workflowRunID, expires: expires))
    }

    /// Whether `token` was issued for these ids and has not expired at `now` (constant-time).
    func isValidStreamToken(
        _ token: String, organizationID: UUID, workflowID: String?, workflowRunID: String?, expires: Int, now: Date
    ) -> Bool {
        guard Double(expires) > now.timeIntervalSince1970 else { return false }
        return verify(
            token,
            of: Self.streamMessage(organizationID: organizationID, workflowID: workflowID, workflowRunID: workflowRunID, expires: expires))
    }

    static func streamMessage(organizationID: UUID, workflowID: String?, workflowRunID: String?, expires: Int) -> String {
        [String(expires), organizationID.uuidString.lowercased(), workflowID ?? "", workflowRunID ?? ""]
            .map { "\($0.utf8.count):\($0)" }.joined()
    }
}
