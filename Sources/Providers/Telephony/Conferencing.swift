import Foundation
import Logging

/// How a provider puts calls into a conference.
public enum ConferenceStyle: Sendable, Equatable {
    /// The conference exists once the first leg's answer markup joins it (Twilio `<Dial><Conference>`).
    case markup
    /// The conference is created through the API with an answered leg; later legs join it (Telnyx).
    case bridge
}

/// A participant action an agent can take.
public enum ParticipantControl: String, Sendable, CaseIterable {
    case mute
    case unmute
    case hold
    case unhold
}

/// Dialing a contact whose answered call goes into a conference.
public struct ConferenceDial: Sendable, Equatable {
    public var to: String
    public var from: String
    /// Where the provider fetches the markup that joins the answered call to the conference (Twilio).
    public var markupURL: String
    /// Where the provider posts the call's events (Twilio status callbacks, Telnyx call events).
    public var callEventsURL: String
    /// Where the provider posts recording events when they do not go with the call's (Twilio).
    public var recordingEventsURL: String
    /// Opaque state echoed back in the call's events (Telnyx `client_state`), if any.
    public var clientState: String?
    /// Makes the provider ignore a retried request (Telnyx `command_id`), if supported.
    public var idempotencyKey: String?
    /// Seconds to ring before giving up.
    public var ringTimeoutSeconds: Int
    /// Whether the contact's leg is recorded from answer.
    public var record: Bool

    public init(
        to: String, from: String, markupURL: String, callEventsURL: String, recordingEventsURL: String,
        clientState: String? = nil, idempotencyKey: String? = nil, ringTimeoutSeconds: Int = 30, record: Bool = false
    ) {
        self.to = to
        self.from = from
        self.markupURL = markupURL
        self.callEventsURL = callEventsURL
        self.recordingEventsURL = recordingEventsURL
        self.clientState = clientState
        self.idempotencyKey = idempotencyKey
        self.ringTimeoutSeconds = ringTimeoutSeconds
        self.record = record
    }
}

/// What an agent's browser SDK needs to connect, and nothing more.
public struct BrowserToken: Sendable, Equatable {
    /// A Twilio Access Token (Voice grant) or a Telnyx login token (JWT).
    public var token: String
    public var expiresAt: Date
    /// A Telnyx telephony credential created for this call, to remember for the next ones.
    public var createdCredentialID: String?

    public init(token: String, expiresAt: Date, createdCredentialID: String? = nil) {
        self.token = token
        self.expiresAt = expiresAt
        self.createdCredentialID = createdCredentialID
    }
}

/// Why a browser token cannot be issued with the stored configuration.
public struct ConferenceSetupError: Error, Equatable, CustomStringConvertible {
    /// The configuration fields that must be stored first.
    public var missingFields: [String]
    public var provider: ProviderName

    public var description: String {
        "\(provider.rawValue) needs \(missingFields.joined(separator: ", ")) in its configuration for browser calls"
    }
}

/// A provider webhook about a call leg, a conference or a recording, normalized.
public struct ProviderConferenceEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case callInitiated
        case callAnswered
        case callEnded
        case conferenceStarted
        case conferenceEnded
        case participantJoined
        case participantLeft
        /// Mute or hold changed; `muted`/`onHold` carry the new state.
        case participantUpdated
        case recordingCompleted
        /// Anything else (stored, not applied); the provider's own name.
        case other(String)
    }

    /// A finished recording.
    public struct Recording: Sendable, Equatable {
        public var id: String?
        public var url: String
        public var durationSeconds: Int?
    }

    /// The provider's id for the event, or what identifies it uniquely.
    public var eventKey: String
    public var kind: Kind
    public var providerConferenceID: String?
    /// The conference's name (Twilio FriendlyName), when the event gives it.
    public var conferenceName: String?
    public var providerCallID: String?
    /// The provider's second id for the leg (Telnyx `call_leg_id`), when the event gives it.
    public var providerLegID: String?
    /// The leg's client state, decoded (Telnyx).
    public var clientState: String?
    /// incoming or outgoing, when the event says (Telnyx).
    public var direction: String?
    public var muted: Bool?
    public var onHold: Bool?
    /// Orders one conference's events: Twilio's SequenceNumber; else nil.
    public var sequence: Int64?
    public var occurredAt: Date?
    public var recording: Recording?

    public init(
        eventKey: String, kind: Kind, providerConferenceID: String? = nil, conferenceName: String? = nil,
        providerCallID: String? = nil, providerLegID: String? = nil, clientState: String? = nil,
        direction: String? = nil, muted: Bool? = nil,
        onHold: Bool? = nil, sequence: Int64? = nil, occurredAt: Date? = nil, recording: Recording? = nil
    ) {
        self.eventKey = eventKey
        self.kind = kind
        self.providerConferenceID = providerConferenceID
        self.conferenceName = conferenceName
        self.providerCallID = providerCallID
        self.providerLegID = providerLegID
        self.clientState = clientState
        self.direction = direction
        self.muted = muted
        self.onHold = onHold
        self.sequence = sequence
        self.occurredAt = occurredAt
        self.recording = recording
    }
}

/// What a markup-style conference leg adds when the session is recorded after an announcement.
public struct MarkupRecording: Sendable, Equatable {
    /// Spoken to this leg before it joins (nil: nothing).
    public var announcement: String?
    /// Where the provider reports the conference's recording.
    public var eventsURL: String

    public init(announcement: String?, eventsURL: String) {
        self.announcement = announcement
        self.eventsURL = eventsURL
    }
}

extension ConferenceProvider {
    /// Markup for an unrecorded session.
    public func conferenceMarkup(name: String, statusCallbackURL: String, endConferenceOnExit: Bool) -> WebhookMarkup {
        conferenceMarkup(name: name, statusCallbackURL: statusCallbackURL, endConferenceOnExit: endConferenceOnExit, recording: nil)
    }
}

/// A provider that can run cold calls through conferences (Twilio and Telnyx).
public protocol ConferenceProvider: TelephonyProvider {
    var conferenceStyle: ConferenceStyle { get }
    /// What a browser credential is tied to (Telnyx: the credential connection); nil when none is kept.
    var browserCredentialScope: String? { get }
    /// Dials the contact; the answered call goes into the conference.
    func dialIntoConference(_ dial: ConferenceDial, logger: Logger) async throws -> PlacedCall
    /// Markup that joins the answering leg to conference `name`, reporting to `statusCallbackURL` (markup style);
    /// with `recording`, the leg first hears its announcement and the conference is recorded from its start.
    func conferenceMarkup(
        name: String, statusCallbackURL: String, endConferenceOnExit: Bool, recording: MarkupRecording?
    ) -> WebhookMarkup
    /// Speaks `text` to an answered leg (bridge style); the provider reports when it has been spoken.
    func announce(callID: String, text: String, clientState: String?, logger: Logger) async throws
    /// Starts recording an answered leg now (bridge style); the recording is reported after the leg ends.
    func startRecording(callID: String, clientState: String?, logger: Logger) async throws
    /// Creates conference `name` with an answered leg; returns the provider's conference id (bridge style).
    func createConference(name: String, callID: String, clientState: String?, logger: Logger) async throws -> String
    /// The id of the running conference called `name` at the provider, if there is one (bridge
    /// style): how a bridge whose result was lost finds what it created instead of creating another.
    func findConference(name: String, logger: Logger) async throws -> String?
    /// Joins an answered leg to an existing conference (bridge style).
    func joinConference(providerConferenceID: String, callID: String, clientState: String?, logger: Logger) async throws
    /// Answers an inbound leg (the agent's browser call, bridge style).
    func answerInbound(callID: String, clientState: String?, logger: Logger) async throws
    /// Mutes, unmutes, holds or unholds one participant.
    func control(_ action: ParticipantControl, providerConferenceID: String, callID: String, logger: Logger) async throws
    /// Ends the conference at the provider.
    func endConference(providerConferenceID: String, logger: Logger) async throws
    /// What the agent's browser SDK needs to connect as `clientID`; `params` name the conference.
    func browserToken(
        clientID: String, params: [String: String], storedCredentialID: String?, now: Date, logger: Logger
    ) async throws -> BrowserToken
    /// Reads a conference, call-leg or recording webhook.
    func parseConferenceEvent(_ request: WebhookRequest) throws -> ProviderConferenceEvent
}
