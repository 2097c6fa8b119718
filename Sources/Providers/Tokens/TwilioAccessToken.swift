import Foundation
import JWTKit

/// A Twilio Access Token for the browser Voice SDK: an HS256 JWT signed with an API key secret,
/// header `cty: twilio-fpa;v=1`, carrying a Voice grant. It never contains the auth token.
public struct TwilioAccessToken: Sendable {
    /// The most a token may live; Twilio allows up to 24 h, the dialer needs far less.
    public static let maximumTTL: TimeInterval = 3600

    /// Why a token could not be issued.
    public enum IssueError: Error, Equatable, CustomStringConvertible {
        /// The configuration has no API key or TwiML app, which browser calls need.
        case missingConfiguration(String)

        public var description: String {
            switch self {
            case .missingConfiguration(let field):
                "TWILIO_CONFIGURATION needs \(field) to issue browser access tokens"
            }
        }
    }

    /// The token's claims, as Twilio defines them.
    public struct Claims: JWTPayload, Equatable {
        public struct Grants: Codable, Equatable, Sendable {
            public struct Voice: Codable, Equatable, Sendable {
                public struct Incoming: Codable, Equatable, Sendable {
                    public var allow: Bool
                }
                public struct Outgoing: Codable, Equatable, Sendable {
                    public var applicationSID: String
                    public var params: [String: String]?

                    enum CodingKeys: String, CodingKey {
                        case applicationSID = "application_sid"
                        case params
                    }
                }
                public var incoming: Incoming?
                public var outgoing: Outgoing
            }
            public var identity: String
            public var voice: Voice
        }

        public var jti: String
        public var iss: String
        public var sub: String
        public var nbf: Int
        public var exp: Int
        public var grants: Grants

        public func verify(using algorithm: some JWTAlgorithm) async throws {
            try ExpirationClaim(value: Date(timeIntervalSince1970: TimeInterval(exp))).verifyNotExpired()
        }
    }

    /// Issues a token for `identity` that may place calls through the organization's TwiML app
    /// with `params` (e.g. the conference to join), valid for `ttl` seconds from `now`.
    public static func issue(
        configuration: TwilioConfiguration, identity: String, params: [String: String], ttl: TimeInterval,
        allowIncoming: Bool = true, now: Date = Date()
    ) async throws -> String {
        guard let keySID = configuration.apiKeySID else { throw IssueError.missingConfiguration("api_key_sid") }
        guard let keySecret = configuration.apiKeySecret else { throw IssueError.missingConfiguration("api_key_secret") }
        guard let appSID = configuration.twimlAppSID else { throw IssueError.missingConfiguration("twiml_app_sid") }
        let issuedAt = Int(now.timeIntervalSince1970)
        let claims = Claims(
            jti: "\(keySID)-\(issuedAt)", iss: keySID, sub: configuration.accountSID, nbf: issuedAt,
            exp: issuedAt + Int(min(max(ttl, 60), maximumTTL)),
            grants: .init(
                identity: identity,
                voice: .init(
                    incoming: allowIncoming ? .init(allow: true) : nil,
                    outgoing: .init(applicationSID: appSID, params: params.isEmpty ? nil : params))))
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: keySecret), digestAlgorithm: .sha256)
        return try await keys.sign(claims, header: ["cty": .string("twilio-fpa;v=1")])
    }
}
