import Foundation

/// Who performed a change, as recorded in the audit log.
public struct Actor: Sendable, Equatable {
    /// The API key that made the request; nil for the operator's CLI.
    public let keyID: UUID?
    /// The key's name at the time (or "cli").
    public let name: String

    public init(keyID: UUID?, name: String) {
        self.keyID = keyID
        self.name = name
    }

    /// The operator at the command line.
    public static let commandLine = Actor(keyID: nil, name: "cli")
}
