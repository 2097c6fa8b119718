import Foundation

/// A signed claim that a call leg belongs to a cold-call session: carried as Telnyx
/// `client_state`, in the Twilio markup URL of the contact's leg, and in the agent's Access Token
/// params. Browsers pass the agent's token back to the provider, so it must not be forgeable: it
/// is an HMAC over every field, with a key every instance derives alike from the master key.
///
/// Format: `cc1|<organization>|<conference>|<role>|<client>|<expires>|<key id>.<mac>` (the key id
/// names the master key the mac was derived from; see `TokenSigner`).
struct ConferenceToken: Sendable, Equatable {
    enum Role: String, Sendable {
        case agent
        case contact
    }

    let organizationID: UUID
    let conferenceID: UUID
    let role: Role
    /// The agent's browser client id; empty for the contact.
    let clientID: String
    /// Unix seconds after which the token no longer admits a leg.
    let expires: Int

    /// How long a token admits a leg: the agent's Access Token lives as long.
    static let lifetime: TimeInterval = 3600

    /// Browser client ids: what every provider accepts as an identity, and never a `|`.
    static func isValidClientID(_ value: String) -> Bool {
        (1...64).contains(value.count)
            && value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.@-".unicodeScalars.contains($0)) }
    }
}

/// Conference tokens are signed by a `TokenSigner` of their own purpose.
extension TokenSigner {
    func token(for claim: ConferenceToken) -> String {
        let body = ConferenceToken.body(claim)
        return body + "|" + signature(body)
    }

    /// The claim of a token this server issued, or nil (forged, altered, malformed). Expiry is checked
    /// only when `now` is given: events about a leg admitted earlier keep naming their session.
    func claim(_ token: String, now: Date?) -> ConferenceToken? {
        let parts = token.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 7, parts[0] == "cc1", let organizationID = UUID(uuidString: parts[1]),
            let conferenceID = UUID(uuidString: parts[2]), let role = ConferenceToken.Role(rawValue: parts[3]),
            let expires = Int(parts[5])
        else { return nil }
        let claim = ConferenceToken(
            organizationID: organizationID, conferenceID: conferenceID, role: role, clientID: parts[4], expires: expires)
        guard verify(parts[6], of: ConferenceToken.body(claim)) else { return nil }
        if let now, Double(expires) <= now.timeIntervalSince1970 { return nil }
        return claim
    }
}

extension ConferenceToken {
    static func body(_ claim: ConferenceToken) -> String {
        [
            "cc1", claim.organizationID.uuidString.lowercased(), claim.conferenceID.uuidString.lowercased(),
            claim.role.rawValue, claim.clientID, String(claim.expires),
        ].joined(separator: "|")
    }
}
