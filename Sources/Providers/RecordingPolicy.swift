/// Whether an organization's cold calls are recorded, read from a validated `RECORDING_POLICY`
/// document; without one, nothing is recorded.
public struct RecordingPolicy: Sendable, Equatable {
    /// How calls are recorded.
    public enum Mode: String, Sendable, CaseIterable {
        /// Nothing is recorded.
        case off
        /// The contact's leg is recorded from answer.
        case on
        /// The contact first hears `announcement`; recording starts after it.
        case onWithAnnouncement = "on_with_announcement"
    }

    /// The longest announcement, in characters.
    public static let maximumAnnouncementLength = 1000

    /// What an organization without a `RECORDING_POLICY` gets.
    public static let off = RecordingPolicy(mode: .off, announcement: nil)

    public var mode: Mode
    /// What the contact hears before recording starts (`on_with_announcement` only).
    public var announcement: String?

    /// Validates `document` against the `RECORDING_POLICY` schema and reads it.
    public init(document: [String: JSONValue]) throws(ConfigurationValidationError) {
        let validated = try ValidatedDocument(document, key: .recordingPolicy)
        let raw = try validated.requiredString("mode")
        guard let mode = Mode(rawValue: raw) else {
            throw ConfigurationValidationError(field: "mode", problem: "must be one of off, on, on_with_announcement")
        }
        self.mode = mode
        announcement = mode == .onWithAnnouncement ? validated.optionalString("announcement") : nil
    }

    /// Creates a policy directly.
    public init(mode: Mode, announcement: String?) {
        self.mode = mode
        self.announcement = announcement
    }

    /// Whether the contact's leg is recorded at all.
    public var records: Bool { mode != .off }
}
