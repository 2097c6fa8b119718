import Foundation
import Logging

/// Twilio conferences are implicit: the contact's answered call runs `<Dial><Conference>`, the
/// agent's browser leg runs the same markup through the organization's TwiML app, and the
/// conference's status callbacks report who joined, left, muted and held.
extension TwilioProvider: ConferenceProvider {
    public var conferenceStyle: ConferenceStyle { .markup }

    public var browserCredentialScope: String? { nil }

    /// Events the conference reports: every one the session state needs.
    static let conferenceEvents = "start end join leave mute hold"

    public func dialIntoConference(_ dial: ConferenceDial, logger: Logger) async throws -> PlacedCall {
        var form: [(String, String)] = [
            ("To", dial.to), ("From", dial.from), ("Url", dial.markupURL), ("Method", "POST"),
            ("StatusCallback", dial.callEventsURL), ("StatusCallbackMethod", "POST"),
            ("Timeout", String(min(max(dial.ringTimeoutSeconds, 1), 600))),
        ]
        for event in ["initiated", "ringing", "answered", "completed"] { form.append(("StatusCallbackEvent", event)) }
        if dial.record {
            form += [
                ("Record", "true"), ("RecordingStatusCallback", dial.recordingEventsURL),
                ("RecordingStatusCallbackMethod", "POST"),
            ]
        }
        let response = try await send(.post, "\(accountURL)/Calls.json", form: form, logger: logger)
        guard let body = response.jsonObject(), let sid = body["sid"] as? String, let raw = body["status"] as? String else {
            throw ProviderError.invalidResponse("Twilio's call resource has no sid or status")
        }
        return PlacedCall(providerCallID: sid, status: Self.status(raw) ?? .queued, rawStatus: raw)
    }

    /// With `recording`: `<Say>` the announcement first, then join a conference recorded from its start
    /// (which is after this leg heard the announcement: the conference starts when the second leg joins).
    public func conferenceMarkup(
        name: String, statusCallbackURL: String, endConferenceOnExit: Bool, recording: MarkupRecording?
    ) -> WebhookMarkup {
        var pairs = [
            ("startConferenceOnEnter", "true"), ("endConferenceOnExit", endConferenceOnExit ? "true" : "false"),
            ("beep", "false"), ("statusCallback", statusCallbackURL), ("statusCallbackMethod", "POST"),
            ("statusCallbackEvent", Self.conferenceEvents),
        ]
        if let recording {
            pairs += [
                ("record", "record-from-start"), ("recordingStatusCallback", recording.eventsURL),
                ("recordingStatusCallbackMethod", "POST"),
            ]
        }
        let attributes = pairs.map { "\($0.0)=\"\(XMLEscape.attribute($0.1))\"" }.joined(separator: " ")
        let say = recording?.announcement.map { "<Say>\(XMLEscape.attribute($0))</Say>" } ?? ""
        return WebhookMarkup(
            contentType: "text/xml",
            body: #"<?xml version="1.0" encoding="UTF-8"?><Response>\#(say)<Dial><Conference \#(attributes)>\#(XMLEscape.attribute(name))</Conference></Dial></Response>"#
        )
    }

    public func announce(callID: String, text: String, clientState: String?, logger: Logger) async throws {
        throw ProviderError.unsupported("Twilio announces with <Say> in the markup")
    }

    public func startRecording(callID: String, clientState: String?, logger: Logger) async throws {
        throw ProviderError.unsupported("Twilio records conferences from the markup")
    }

    public func createConference(name: String, callID: String, clientState: String?, logger: Logger) async throws -> String {
        throw ProviderError.unsupported("Twilio creates conferences from markup, not through the API")
    }

    public func findConference(name: String, logger: Logger) async throws -> String? {
        throw ProviderError.unsupported("Twilio creates conferences from markup, not through the API")
    }

    public func joinConference(providerConferenceID: String, callID: String, clientState: String?, logger: Logger) async throws {
        throw ProviderError.unsupported("Twilio joins conferences from markup, not through the API")
    }

    public func answerInbound(callID: String, clientState: String?, logger: Logger) async throws {
        throw ProviderError.unsupported("Twilio answers inbound calls with markup")
    }

    public func control(
        _ action: ParticipantControl, providerConferenceID: String, callID: String, logger: Logger
    ) async throws {
        let field: (String, String)
        switch action {
        case .mute: field = ("Muted", "true")
        case .unmute: field = ("Muted", "false")
        case .hold: field = ("Hold", "true")
        case .unhold: field = ("Hold", "false")
        }
        let path =
            "\(accountURL)/Conferences/\(ProviderHTTPClient.pathEscape(providerConferenceID))/Participants/\(ProviderHTTPClient.pathEscape(callID)).json"
        _ = try await send(.post, path, form: [field], logger: logger)
    }

    public func endConference(providerConferenceID: String, logger: Logger) async throws {
        _ = try await send(
            .post, "\(accountURL)/Conferences/\(ProviderHTTPClient.pathEscape(providerConferenceID)).json",
            form: [("Status", "completed")], logger: logger)
    }

    /// An Access Token for the Voice JS SDK: identity = the client id, outgoing calls through the
    /// organization's TwiML app with `params`; never the auth token or the API key secret.
    public func browserToken(
        clientID: String, params: [String: String], storedCredentialID: String?, now: Date, logger: Logger
    ) async throws -> BrowserToken {
        let missing = [
            ("api_key_sid", configuration.apiKeySID), ("api_key_secret", configuration.apiKeySecret),
            ("twiml_app_sid", configuration.twimlAppSID),
        ].filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty else { throw ConferenceSetupError(missingFields: missing, provider: .twilio) }
        let ttl = TwilioAccessToken.maximumTTL
        let token = try await TwilioAccessToken.issue(
            configuration: configuration, identity: clientID, params: params, ttl: ttl, allowIncoming: false, now: now)
        return BrowserToken(
            token: token, expiresAt: Date(timeIntervalSince1970: TimeInterval(Int(now.timeIntervalSince1970) + Int(ttl))))
    }

    /// Conference status callbacks and recording status callbacks.
    public func parseConferenceEvent(_ request: WebhookRequest) throws -> ProviderConferenceEvent {
        let form = Dictionary(request.formParameters, uniquingKeysWith: { first, _ in first })
        func flag(_ name: String) -> Bool? { form[name].map { $0.lowercased() == "true" } }
        let occurredAt = (form["Timestamp"] ?? form["RecordingStartTime"]).flatMap(Self.parseRFC2822)
        if let recordingSID = form["RecordingSid"] {
            // A call's recording names the call; a conference's (record-from-start) names the conference.
            let callSID = form["CallSid"]
            guard callSID != nil || form["ConferenceSid"] != nil, let status = form["RecordingStatus"] else {
                throw ProviderError.invalidResponse("recording callback without CallSid or ConferenceSid, or RecordingStatus")
            }
            let recording = form["RecordingUrl"].flatMap { url in
                status == "completed"
                    ? ProviderConferenceEvent.Recording(
                        id: recordingSID, url: url, durationSeconds: form["RecordingDuration"].flatMap(Int.init))
                    : nil
            }
            return ProviderConferenceEvent(
                eventKey: "recording:\(recordingSID):\(status)",
                kind: recording == nil ? .other("recording-\(status)") : .recordingCompleted,
                providerConferenceID: callSID == nil ? form["ConferenceSid"] : nil, providerCallID: callSID,
                occurredAt: occurredAt, recording: recording)
        }
        guard let event = form["StatusCallbackEvent"], let conferenceSID = form["ConferenceSid"] else {
            throw ProviderError.invalidResponse("conference callback without StatusCallbackEvent or ConferenceSid")
        }
        let kind: ProviderConferenceEvent.Kind
        switch event {
        case "conference-start": kind = .conferenceStarted
        case "conference-end": kind = .conferenceEnded
        case "participant-join": kind = .participantJoined
        case "participant-leave": kind = .participantLeft
        case "participant-mute", "participant-unmute", "participant-hold", "participant-unhold": kind = .participantUpdated
        default: kind = .other(event)
        }
        let sequence = form["SequenceNumber"].flatMap { Int64($0) }
        return ProviderConferenceEvent(
            eventKey: "conference:\(conferenceSID):\(event):\(form["SequenceNumber"] ?? form["Timestamp"] ?? ""):\(form["CallSid"] ?? "")",
            kind: kind, providerConferenceID: conferenceSID, conferenceName: form["FriendlyName"],
            providerCallID: form["CallSid"], muted: flag("Muted"), onHold: flag("Hold"), sequence: sequence,
            occurredAt: occurredAt)
    }
}
