import Foundation

/// The four simulated providers.
enum ProviderKind: String, Sendable, Hashable {
    case twilio
    case telnyx
    case vonage
    case plivo
}

/// Identifies a call across providers.
struct CallKey: Sendable, Hashable {
    var provider: ProviderKind
    var id: String
}

/// How a call ended.
enum CallEnd: Sendable, Equatable {
    /// Answered, then the callee hung up.
    case completed
    /// Answered, then hung up through the API.
    case hungUpByCaller
    /// Hung up through the API before it was answered.
    case canceled
    case busy
    case noAnswer
    case failed
}

/// Where a call is in its life.
enum CallPhase: Sendable, Equatable {
    case queued
    case initiated
    case ringing
    case answered
    case ended(CallEnd)
}

/// One step of a call's life that the provider may report by webhook.
enum LifecycleEvent: Sendable, Equatable {
    case initiated
    case ringing
    case answered
    case ended(CallEnd)
}

/// What Twilio does with a call once it is answered.
enum TwilioInstructions: Sendable {
    /// Fetch TwiML from `url` with `method` (a call created with `Url`).
    case url(String, method: String)
    /// Execute this TwiML without a fetch (a call created with `Twiml`).
    case twiml(String)
    /// Fetch the application's voice URL (a call created with `ApplicationSid`).
    case application(String)
    /// Fetch the TwiML app's voice URL for a browser client's call, with the request already built.
    case clientApplication(url: String, method: String, parameters: [(String, String)])
}

/// Twilio-specific call parameters.
struct TwilioCallDetails: Sendable {
    var statusCallback: String?
    var statusCallbackMethod: String
    var statusCallbackEvents: Set<String>
    var phoneNumberSID: String?
    var sequenceNumber: Int = 0
    /// "outbound-api" for calls placed through the REST API, "inbound" for browser client legs.
    var direction: String = "outbound-api"
    /// What to execute on answer; nil executes nothing.
    var instructions: TwilioInstructions?
    /// `Record=true`: a recording is made from answer to end.
    var record: Bool = false
    var recordingStatusCallback: String?
    var recordingStatusCallbackMethod: String = "POST"
    var recordingStatusCallbackEvents: Set<String> = ["completed"]
}

/// Telnyx-specific call parameters.
struct TelnyxCallDetails: Sendable {
    var callLegID: String
    var callSessionID: String
    var connectionID: String
    var clientState: String?
    var webhookURL: String?
    /// "outgoing" for dialed legs, "incoming" for WebRTC legs.
    var direction: String = "outgoing"
    /// `record: record-from-answer`: the format (`mp3` or `wav`) and channels (`single` or `dual`) of the recording.
    var recording: (format: String, channels: String)?
}

/// Vonage-specific call parameters.
struct VonageCallDetails: Sendable {
    var conversationUUID: String
    var toType: String
    var eventURL: String?
    var eventMethod: String
}

/// Plivo-specific call parameters.
struct PlivoCallDetails: Sendable {
    var answerURL: String
    var answerMethod: String
    var hangupURL: String?
    var hangupMethod: String
    var ringURL: String?
    var ringMethod: String
    /// The live call's id (`CallUUID`), which differs from the request's (`request_uuid`, the call's key) as on
    /// Plivo: `POST /Call/` answers the request id, the callbacks carry both.
    var callUUID: String
}

/// Provider-specific parts of a call.
enum CallDetails: Sendable {
    case twilio(TwilioCallDetails)
    case telnyx(TelnyxCallDetails)
    case vonage(VonageCallDetails)
    case plivo(PlivoCallDetails)
}

/// A call placed through one of the simulated APIs.
struct SimulatedCall: Sendable {
    var key: CallKey
    /// The owning account: Twilio account SID, Telnyx API key, Vonage application id, Plivo auth id.
    var accountID: String
    var from: String
    var to: String
    var createdAt: Date
    var phase: CallPhase = .queued
    var ringingAt: Date?
    var answeredAt: Date?
    var endedAt: Date?
    var details: CallDetails

    /// Whether the call has ended.
    var hasEnded: Bool {
        if case .ended = phase { return true }
        return false
    }

    /// Whether the call reached the callee's phone (ringing or answered) and has not ended.
    var isLive: Bool {
        phase == .ringing || phase == .answered
    }

    /// How the call ended, if it has.
    var end: CallEnd? {
        if case .ended(let end) = phase { return end }
        return nil
    }

    /// Whole seconds between answer and end (or now, while talking).
    var durationSeconds: Int {
        guard let answeredAt else { return 0 }
        return max(0, Int((endedAt ?? Date()).timeIntervalSince(answeredAt).rounded()))
    }

    /// Moves the call forward for an event; false when the event no longer applies (the call already ended).
    mutating func apply(_ event: LifecycleEvent, at date: Date) -> Bool {
        if hasEnded {
            // The end was already recorded (by an API hangup); its webhook still goes out.
            if case .ended = event { return true }
            return false
        }
        switch event {
        case .initiated:
            phase = .initiated
        case .ringing:
            phase = .ringing
            ringingAt = date
        case .answered:
            phase = .answered
            // An inbound leg answered through the API keeps the moment it was answered.
            answeredAt = answeredAt ?? date
        case .ended(let end):
            phase = .ended(end)
            endedAt = date
        }
        return true
    }

    /// Ends the call through the API; nil when it had already ended.
    mutating func hangUpByAPI(at date: Date) -> CallEnd? {
        finish(answeredAt == nil ? .canceled : .hungUpByCaller, at: date)
    }

    /// Ends the call as `end` unless it already ended; returns the end when it applied.
    mutating func finish(_ end: CallEnd, at date: Date) -> CallEnd? {
        guard !hasEnded else { return nil }
        phase = .ended(end)
        endedAt = date
        return end
    }
}
