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

/// Twilio-specific call parameters.
struct TwilioCallDetails: Sendable {
    var statusCallback: String?
    var statusCallbackMethod: String
    var statusCallbackEvents: Set<String>
    var phoneNumberSID: String?
    var sequenceNumber: Int = 0
}

/// Telnyx-specific call parameters.
struct TelnyxCallDetails: Sendable {
    var callLegID: String
    var callSessionID: String
    var connectionID: String
    var clientState: String?
    var webhookURL: String?
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
            answeredAt = date
        case .ended(let end):
            phase = .ended(end)
            endedAt = date
        }
        return true
    }

    /// Ends the call through the API; nil when it had already ended.
    mutating func hangUpByAPI(at date: Date) -> CallEnd? {
        guard !hasEnded else { return nil }
        let end: CallEnd = answeredAt == nil ? .canceled : .hungUpByCaller
        phase = .ended(end)
        endedAt = date
        return end
    }
}
