import Foundation

/// A cold-call session: one provider conference joining a contact's leg and an agent's browser leg.
public struct Conference: Sendable, Equatable {
    public let organizationID: UUID
    public let id: UUID
    public let provider: String
    /// The name the provider knows the conference by.
    public let name: String
    /// The provider's id, once the provider has created the conference.
    public let providerConferenceID: String?
    /// init, in-progress or completed.
    public let status: String
    public let contactID: UUID?
    public let contactName: String?
    public let contactPhone: String
    public let fromNumber: String
    public let agentClientID: String?
    public let createdAt: Date
    public let startedAt: Date?
    public let endedAt: Date?
    public let endRequestedAt: Date?
    /// Why a session ended before it started: the contact's leg's terminal status (busy, no-answer,
    /// failed, canceled, or completed when the contact hung up first); nil otherwise.
    public var endedReason: String? = nil
    /// The leg that last claimed the creation of the provider conference (bridge style), and until when.
    public var bridgeLeaseCall: String? = nil
    public var bridgeLeaseUntil: Date? = nil

    /// The provider-facing name of a session: "sb-" + its id.
    public static func name(for id: UUID) -> String {
        "sb-" + id.uuidString.lowercased()
    }

    /// The session id a provider-facing name stands for.
    public static func id(fromName name: String) -> UUID? {
        guard name.hasPrefix("sb-") else { return nil }
        return UUID(uuidString: String(name.dropFirst(3)))
    }

    /// Whole seconds between start and end (or `now` while it runs); nil before it started.
    public func durationSeconds(now: Date = Date()) -> Int? {
        guard let startedAt else { return nil }
        return max(0, Int((endedAt ?? now).timeIntervalSince(startedAt).rounded()))
    }
}

/// One leg in a conference.
public struct ConferenceParticipant: Sendable, Equatable {
    public let organizationID: UUID
    public let id: UUID
    public let conferenceID: UUID
    /// agent or contact.
    public let role: String
    public let providerCallID: String
    public let clientID: String?
    public let muted: Bool
    public let onHold: Bool
    public let joinedAt: Date?
    public let leftAt: Date?
}

/// What a new session records before the contact is dialed.
public struct NewConference: Sendable {
    public var provider: String
    public var contactID: UUID?
    public var contactName: String?
    public var contactPhone: String
    public var fromNumber: String
    public var createdBy: UUID?

    public init(
        provider: String, contactID: UUID?, contactName: String?, contactPhone: String, fromNumber: String, createdBy: UUID?
    ) {
        self.provider = provider
        self.contactID = contactID
        self.contactName = contactName
        self.contactPhone = contactPhone
        self.fromNumber = fromNumber
        self.createdBy = createdBy
    }
}

/// A provider event about a conference, reduced to what the store applies.
public struct ConferenceEventRecord: Sendable {
    public enum Kind: String, Sendable {
        case conferenceStarted = "conference-start"
        case conferenceEnded = "conference-end"
        case participantJoined = "participant-join"
        case participantLeft = "participant-leave"
        /// Mute or hold changed (Twilio's participant-mute/unmute/hold/unhold).
        case participantUpdated = "participant-update"
    }

    public var provider: String
    /// The provider's id for the event, or what identifies it uniquely; duplicates are no-ops.
    public var eventKey: String
    public var kind: Kind
    /// Our session id, when the event names it (Telnyx client_state, Twilio FriendlyName).
    public var conferenceID: UUID?
    public var providerConferenceID: String?
    public var providerCallID: String?
    /// The participant's state as the event reports it (Twilio sends both on every participant event).
    public var muted: Bool?
    public var onHold: Bool?
    /// Orders the events of one conference (Twilio SequenceNumber, else occurred_at in microseconds).
    public var sequence: Int64
    public var occurredAt: Date
    public var payload: Data

    public init(
        provider: String, eventKey: String, kind: Kind, conferenceID: UUID?, providerConferenceID: String?,
        providerCallID: String?, muted: Bool? = nil, onHold: Bool? = nil, sequence: Int64, occurredAt: Date, payload: Data
    ) {
        self.provider = provider
        self.eventKey = eventKey
        self.kind = kind
        self.conferenceID = conferenceID
        self.providerConferenceID = providerConferenceID
        self.providerCallID = providerCallID
        self.muted = muted
        self.onHold = onHold
        self.sequence = sequence
        self.occurredAt = occurredAt
        self.payload = payload
    }
}

/// The call log's view of a cold call: the contact's leg with its session and outcome.
public struct ColdCallLogEntry: Sendable, Equatable {
    public let call: Call
    public let conferenceID: UUID
    public let conferenceStatus: String
    public let contactID: UUID?
    public let contactName: String?
    public let contactPhone: String
    public let agentClientID: String?
    public let outcome: String?
    public let outcomeNotes: String?
    public let callbackAt: Date?
    public let outcomeRecordedAt: Date?
    public let recordingURL: String?
    public let recordingDurationSeconds: Int?
}

/// A call outcome as the agent logs it.
public struct CallOutcomeRecord: Sendable {
    public var outcome: String
    public var notes: String?
    public var callbackAt: Date?
    public var recordedBy: UUID?

    public init(outcome: String, notes: String?, callbackAt: Date?, recordedBy: UUID?) {
        self.outcome = outcome
        self.notes = notes
        self.callbackAt = callbackAt
        self.recordedBy = recordedBy
    }
}

/// A recording the provider finished, for the call it recorded.
public struct RecordingRecord: Sendable {
    public var provider: String
    public var eventKey: String
    /// The recorded call's provider id, when the event names it (Twilio; not Telnyx's recording event).
    public var providerCallID: String?
    /// The recorded leg's second id (Telnyx `call_leg_id`), when the event names it.
    public var providerLegID: String?
    /// The cold-call session the event's signed client state names; its contact call is the recorded one.
    public var conferenceID: UUID?
    /// The provider's id of the recorded conference (a Twilio conference recording); its session's contact call
    /// is the recorded one.
    public var providerConferenceID: String? = nil
    public var recordingID: String?
    public var url: String
    public var durationSeconds: Int?
    public var payload: Data

    public init(
        provider: String, eventKey: String, providerCallID: String?, providerLegID: String? = nil,
        conferenceID: UUID? = nil, recordingID: String?, url: String, durationSeconds: Int?, payload: Data
    ) {
        self.provider = provider
        self.eventKey = eventKey
        self.providerCallID = providerCallID
        self.providerLegID = providerLegID
        self.conferenceID = conferenceID
        self.recordingID = recordingID
        self.url = url
        self.durationSeconds = durationSeconds
        self.payload = payload
    }
}

/// What storing a recording event did.
public enum RecordingOutcome: Sendable, Equatable {
    /// Seen before: nothing changed.
    case duplicate
    /// Stored and attached to its call.
    case attached
    /// No call of the organization matches it: stored nowhere (the caller logs and counts it).
    case unmatched
}
