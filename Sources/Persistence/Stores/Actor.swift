import Foundation

/// Who performed a change, as recorded in the audit log.
public struct Actor: Sendable, Equatable {
    /// What kind of actor it is; the raw values are the SQL's `audit_events.actor_type`.
    public enum Kind: String, Sendable, Codable {
        case apiKey = "api_key"
        case user
        case cli
        case system
    }

    /// The kind of actor.
    public let kind: Kind
    /// The API key that made the request; nil for users, the CLI and the server.
    public let keyID: UUID?
    /// The console user who made the request.
    public let userID: UUID?
    /// The user's email at the time.
    public let email: String?
    /// The key's name at the time (or "cli"; a user's email).
    public let name: String

    /// An API key (or, without a key, the CLI or the server itself).
    public init(keyID: UUID?, name: String) {
        self.kind = keyID != nil ? .apiKey : (name == "cli" ? .cli : .system)
        self.keyID = keyID
        self.userID = nil
        self.email = nil
        self.name = name
    }

    /// A signed-in console user.
    public static func user(id: UUID, email: String) -> Actor {
        Actor(kind: .user, keyID: nil, userID: id, email: email, name: email)
    }

    private init(kind: Kind, keyID: UUID?, userID: UUID?, email: String?, name: String) {
        self.kind = kind
        self.keyID = keyID
        self.userID = userID
        self.email = email
        self.name = name
    }

    /// The operator at the command line.
    public static let commandLine = Actor(keyID: nil, name: "cli")
}
