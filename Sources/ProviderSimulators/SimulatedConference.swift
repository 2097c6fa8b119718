import Foundation

/// Where a conference is in its life; each provider spells these its own way.
enum ConferenceStatus: Sendable, Equatable {
    /// Created, waiting for a participant that starts it.
    case initializing
    /// Mixing audio between its participants.
    case inProgress
    /// Ended; nobody can join it again.
    case completed
}

/// One call's membership in a conference.
struct ConferenceParticipant: Sendable {
    var callKey: CallKey
    /// Telnyx's participant id (a UUID); Twilio identifies participants by call SID.
    var id: String
    var muted: Bool
    var onHold: Bool
    var startConferenceOnEnter: Bool
    var endConferenceOnExit: Bool
    var joinedAt: Date
    var updatedAt: Date
    var leftAt: Date?

    /// Whether the participant is still in the conference.
    var isPresent: Bool { leftAt == nil }
}

/// A conference of either provider.
struct SimulatedConference: Sendable {
    var provider: ProviderKind
    /// Twilio `CF…` SID or Telnyx UUID.
    var id: String
    /// The owning account: Twilio account SID or Telnyx API key.
    var accountID: String
    var name: String
    var status: ConferenceStatus
    var createdAt: Date
    var updatedAt: Date
    var endedAt: Date?
    /// Why it ended, in the provider's words.
    var endReason: String?
    /// The call whose leaving ended it, if one did.
    var endedByCall: CallKey?
    /// Everyone who ever joined, in join order.
    var participants: [ConferenceParticipant] = []

    // Twilio: the status callback taken from the first participant whose TwiML named one.
    var statusCallback: String?
    var statusCallbackMethod: String = "POST"
    var statusCallbackEvents: Set<String> = []
    /// The last `SequenceNumber` sent.
    var sequenceNumber: Int = 0
    /// Twilio `<Conference record="record-from-start">`: recorded from the conference's start, reported to
    /// `recordingStatusCallback` once it ends.
    var recordFromStart = false
    var recordingStartedAt: Date?
    var recordingStatusCallback: String?
    var recordingStatusCallbackMethod: String = "POST"

    // Telnyx: the creating leg, its connection, the region and the expiry.
    var creator: CallKey?
    var connectionID: String?
    var region: String?
    var expiresAt: Date?

    /// Participants still in the conference, in join order.
    var present: [ConferenceParticipant] { participants.filter(\.isPresent) }

    /// The index of `key`'s current membership, if it is in the conference.
    func presentIndex(of key: CallKey) -> Int? {
        participants.lastIndex { $0.callKey == key && $0.isPresent }
    }

    /// A copy for tests.
    var snapshot: SimulatedConferenceSnapshot {
        let statusText: String
        switch (provider, status) {
        case (_, .initializing): statusText = "init"
        case (.telnyx, .inProgress): statusText = "in_progress"
        case (_, .inProgress): statusText = "in-progress"
        case (_, .completed): statusText = "completed"
        }
        return SimulatedConferenceSnapshot(
            provider: provider.rawValue, id: id, name: name, status: statusText,
            participants: participants.map {
                .init(callID: $0.callKey.id, muted: $0.muted, onHold: $0.onHold, joinedAt: $0.joinedAt, leftAt: $0.leftAt)
            })
    }
}

/// A conference as tests see it.
public struct SimulatedConferenceSnapshot: Sendable, Equatable {
    /// One membership of a call in the conference.
    public struct Participant: Sendable, Equatable {
        /// The Twilio call SID or Telnyx call control id.
        public var callID: String
        /// Whether the participant is muted.
        public var muted: Bool
        /// Whether the participant is on hold.
        public var onHold: Bool
        /// When the participant joined.
        public var joinedAt: Date
        /// When the participant left; nil while still in the conference.
        public var leftAt: Date?
    }

    /// "twilio" or "telnyx".
    public var provider: String
    /// The conference SID (Twilio) or id (Telnyx).
    public var id: String
    /// The friendly name (Twilio) or name (Telnyx).
    public var name: String
    /// As the provider writes it: "init", "in-progress" / "in_progress", "completed".
    public var status: String
    /// Every participant that ever joined, in join order.
    public var participants: [Participant]
}

/// A change to a conference that the provider may report by webhook.
struct ConferenceEvent: Sendable {
    enum Kind: Sendable, Equatable {
        case created
        case started
        case ended
        case joined
        case left
        case muted
        case unmuted
        case held
        case unheld
    }

    var kind: Kind
    /// The conference as it is after the event.
    var conference: SimulatedConference
    /// The participant the event is about, for participant events.
    var participant: ConferenceParticipant?
    /// The call the event is about (the participant's; the creator's for Telnyx conference events).
    var call: SimulatedCall?
    /// Twilio's per-conference `SequenceNumber`.
    var sequenceNumber: Int = 0
    var occurredAt: Date
}

/// A Twilio application's voice settings as the REST API last set them.
struct TwilioApplicationState: Sendable {
    var sid: String
    var accountSID: String
    var friendlyName: String
    var voiceURL: String?
    var voiceMethod: String
    var createdAt: Date
    var updatedAt: Date
}

/// A Telnyx telephony credential (an on-demand WebRTC login).
struct TelnyxCredential: Sendable {
    var id: String
    /// The owning account's API key.
    var accountID: String
    var connectionID: String
    var name: String?
    var tag: String?
    var sipUsername: String
    var sipPassword: String
    var expiresAt: Date?
    var createdAt: Date
    var updatedAt: Date

    /// Whether the credential has expired at `date`.
    func isExpired(at date: Date) -> Bool {
        expiresAt.map { $0 <= date } ?? false
    }
}

/// A Telnyx telephony credential as tests see it.
public struct TelnyxCredentialSnapshot: Sendable, Equatable {
    /// The credential id (a UUID).
    public var id: String
    /// The credential connection it belongs to.
    public var connectionID: String
    /// `gencred…`.
    public var sipUsername: String
    /// The generated SIP password.
    public var sipPassword: String
    /// When it expires, if it does.
    public var expiresAt: Date?
}
