/// How calls behave: outcome chosen by the destination number's last 4 digits: "0486" → busy, "0404" → no-answer, "0500" → failed, anything else answered then completed after `talkTime`.
/// Inbound browser legs (Twilio client calls, Telnyx WebRTC calls) ignore the timings: they live until hung up.
public struct CallScenarioSettings: Sendable, Equatable {
    /// Time from placing the call to ringing.
    public var ringDelay: Duration
    /// Time from ringing to answer (or to busy / no-answer).
    public var answerDelay: Duration
    /// Time from answer to the callee hanging up.
    public var talkTime: Duration
    /// Deliver every webhook twice, as at-least-once delivery may.
    public var duplicateEveryWebhook: Bool
    /// Hold a call's webhooks until it ends, then deliver them in a random order (a conference's: until it completes).
    public var shuffleWebhooks: Bool
    /// A fault every provider REST request meets (applies at once, also to requests already stalled).
    public var apiFault: APIFault

    /// Creates settings; the defaults keep a call under half a second.
    public init(
        ringDelay: Duration = .milliseconds(50),
        answerDelay: Duration = .milliseconds(100),
        talkTime: Duration = .milliseconds(200),
        duplicateEveryWebhook: Bool = false,
        shuffleWebhooks: Bool = false,
        apiFault: APIFault = .none
    ) {
        self.ringDelay = ringDelay
        self.answerDelay = answerDelay
        self.talkTime = talkTime
        self.duplicateEveryWebhook = duplicateEveryWebhook
        self.shuffleWebhooks = shuffleWebhooks
        self.apiFault = apiFault
    }
}

/// What happens to a placed call, chosen by its destination.
enum CallOutcome: Sendable, Equatable {
    case answered
    case busy
    case noAnswer
    case failed

    /// The outcome for a destination: by the last four digits of its number.
    init(destination: String) {
        let digits = digitsOnly(destination)
        switch String(digits.suffix(4)) {
        case "0486" where digits.count >= 4: self = .busy
        case "0404" where digits.count >= 4: self = .noAnswer
        case "0500" where digits.count >= 4: self = .failed
        default: self = .answered
        }
    }
}
