/// A call's state, normalized across providers.
public enum CallStatus: String, Sendable, Codable, CaseIterable {
    case queued
    case initiated
    case ringing
    case inProgress = "in-progress"
    case completed
    case busy
    case noAnswer = "no-answer"
    case failed
    case canceled

    /// The call is over; nothing moves it again.
    public var isTerminal: Bool {
        switch self {
        case .completed, .busy, .noAnswer, .failed, .canceled: true
        default: false
        }
    }

    /// Position in the lifecycle; an event never moves a call to a lower rank, so late or
    /// reordered webhooks cannot move a call backwards.
    public var rank: Int {
        switch self {
        case .queued: 0
        case .initiated: 1
        case .ringing: 2
        case .inProgress: 3
        case .completed, .busy, .noAnswer, .failed, .canceled: 4
        }
    }
}
