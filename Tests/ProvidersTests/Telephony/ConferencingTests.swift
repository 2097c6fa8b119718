import AsyncHTTPClient
import Foundation
import Testing

@testable import Providers

/// Reading conference, call-leg and recording webhooks, and the conference markup.
@Suite struct ConferencingTests {
    func twilio() throws -> TwilioProvider {
        TwilioProvider(
            configuration: try TwilioConfiguration(document: Fixtures.fullTwilioDocument), previous: nil,
            previousValidUntil: nil, http: ProviderHTTPClient(client: .shared), baseURL: TwilioProvider.defaultBaseURL)
    }

    func telnyx() throws -> TelnyxProvider {
        TelnyxProvider(
            configuration: try TelnyxConfiguration(document: Fixtures.telnyxDocument), previous: nil,
            previousValidUntil: nil, http: ProviderHTTPClient(client: .shared), baseURL: TelnyxProvider.defaultBaseURL)
    }

    func form(_ pairs: [(String, String)]) -> WebhookRequest {
        let body = pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }
            .joined(separator: "&")
        return WebhookRequest(
            method: "POST", url: "https://switchboard.example/events",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8))
    }

    @Test func twilioParticipantCallbacksCarryStateAndSequence() throws {
        let event = try twilio().parseConferenceEvent(
            form([
                ("AccountSid", Fixtures.twilioAccountSID), ("ConferenceSid", "CF11"), ("FriendlyName", "sb-x"),
                ("StatusCallbackEvent", "participant-hold"), ("CallSid", "CA22"), ("Muted", "false"), ("Hold", "true"),
                ("SequenceNumber", "7"), ("Timestamp", "Sat, 21 Nov 2026 08:00:00 +0000"),
            ]))
        #expect(event.kind == .participantUpdated)
        #expect(event.providerConferenceID == "CF11")
        #expect(event.conferenceName == "sb-x")
        #expect(event.providerCallID == "CA22")
        #expect(event.muted == false)
        #expect(event.onHold == true)
        #expect(event.sequence == 7)
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_795_248_000))
    }

    @Test(arguments: [
        ("conference-start", ProviderConferenceEvent.Kind.conferenceStarted),
        ("conference-end", .conferenceEnded), ("participant-join", .participantJoined),
        ("participant-leave", .participantLeft), ("participant-mute", .participantUpdated),
        ("participant-unmute", .participantUpdated), ("participant-unhold", .participantUpdated),
        ("announcement-end", .other("announcement-end")),
    ])
    func twilioConferenceEventNames(name: String, kind: ProviderConferenceEvent.Kind) throws {
        let event = try twilio().parseConferenceEvent(
            form([("ConferenceSid", "CF1"), ("StatusCallbackEvent", name), ("SequenceNumber", "1")]))
        #expect(event.kind == kind)
    }

    @Test func twilioRecordingCallbackGivesURLAndDuration() throws {
        let event = try twilio().parseConferenceEvent(
            form([
                ("CallSid", "CA1"), ("RecordingSid", "RE1"), ("RecordingStatus", "completed"),
                ("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"),
                ("RecordingDuration", "42"),
            ]))
        #expect(event.kind == .recordingCompleted)
        #expect(event.recording?.url == "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1")
        #expect(event.recording?.durationSeconds == 42)
        #expect(event.recording?.id == "RE1")
        #expect(event.providerCallID == "CA1")

        let failed = try twilio().parseConferenceEvent(
            form([("CallSid", "CA1"), ("RecordingSid", "RE1"), ("RecordingStatus", "failed")]))
        #expect(failed.kind == .other("recording-failed"))
        #expect(failed.eventKey != event.eventKey)
    }

    @Test func twilioCallbacksWithoutTheirIdsAreRefused() throws {
        #expect(throws: ProviderError.self) { try twilio().parseConferenceEvent(form([("StatusCallbackEvent", "participant-join")])) }
        #expect(throws: ProviderError.self) { try twilio().parseConferenceEvent(form([("RecordingSid", "RE1")])) }
    }

    @Test func twilioMarkupJoinsTheNamedConferenceWithEscapedAttributes() throws {
        let markup = try twilio().conferenceMarkup(
            name: "sb-1", statusCallbackURL: "https://sb.example/events?a=1&b=2", endConferenceOnExit: true)
        #expect(markup.contentType == "text/xml")
        #expect(markup.body.contains(#"statusCallback="https://sb.example/events?a=1&amp;b=2""#))
        #expect(markup.body.contains(#"statusCallbackEvent="start end join leave mute hold""#))
        #expect(markup.body.contains(#"endConferenceOnExit="true""#))
        #expect(markup.body.hasSuffix("<Dial><Conference startConferenceOnEnter=\"true\" endConferenceOnExit=\"true\" beep=\"false\" statusCallback=\"https://sb.example/events?a=1&amp;b=2\" statusCallbackMethod=\"POST\" statusCallbackEvent=\"start end join leave mute hold\">sb-1</Conference></Dial></Response>"))
    }

    func telnyxEvent(_ type: String, _ payload: [String: Any]) throws -> WebhookRequest {
        let body = try JSONSerialization.data(withJSONObject: [
            "data": [
                "record_type": "event", "event_type": type, "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
                "occurred_at": "2026-11-21T08:00:00.123456Z", "payload": payload,
            ],
            "meta": ["attempt": 1],
        ])
        return WebhookRequest(
            method: "POST", url: "https://sb.example/events", headers: [("Content-Type", "application/json")],
            body: Array(body))
    }

    @Test func telnyxConferenceEventsNameTheirConferenceAndLeg() throws {
        let state = Data("cc1|session".utf8).base64EncodedString()
        let joined = try telnyx().parseConferenceEvent(
            try telnyxEvent(
                "conference.participant.joined",
                ["call_control_id": "v3:leg", "conference_id": "conf-1", "client_state": state]))
        #expect(joined.kind == .participantJoined)
        #expect(joined.providerConferenceID == "conf-1")
        #expect(joined.providerCallID == "v3:leg")
        #expect(joined.clientState == "cc1|session")
        #expect(joined.eventKey == "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0")
        #expect(abs((joined.occurredAt?.timeIntervalSince1970 ?? 0) - 1_795_248_000.123456) < 0.001)

        let inbound = try telnyx().parseConferenceEvent(
            try telnyxEvent("call.initiated", ["call_control_id": "v3:agent", "direction": "incoming"]))
        #expect(inbound.kind == .callInitiated)
        #expect(inbound.direction == "incoming")
    }

    @Test func telnyxRecordingSavedGivesURLAndDuration() throws {
        let event = try telnyx().parseConferenceEvent(
            try telnyxEvent(
                "call.recording.saved",
                [
                    "call_control_id": "v3:leg", "recording_id": "rec-1",
                    "recording_started_at": "2026-11-21T08:00:00Z", "recording_ended_at": "2026-11-21T08:01:05Z",
                    "recording_urls": ["mp3": "https://files.example/rec.mp3", "wav": NSNull()],
                ]))
        #expect(event.kind == .recordingCompleted)
        #expect(event.recording == .init(id: "rec-1", url: "https://files.example/rec.mp3", durationSeconds: 65))
        #expect(throws: ProviderError.self) {
            try telnyx().parseConferenceEvent(try telnyxEvent("call.recording.saved", ["call_control_id": "v3:leg"]))
        }
    }

    @Test func browserTokensNeedTheirConfiguration() async throws {
        await #expect(throws: ConferenceSetupError(missingFields: ["api_key_sid", "api_key_secret", "twiml_app_sid"], provider: .twilio)) {
            let provider = TwilioProvider(
                configuration: try TwilioConfiguration(document: Fixtures.twilioDocument), previous: nil,
                previousValidUntil: nil, http: ProviderHTTPClient(client: .shared), baseURL: TwilioProvider.defaultBaseURL)
            _ = try await provider.browserToken(
                clientID: "agent", params: [:], storedCredentialID: nil, now: Date(), logger: .init(label: "test"))
        }
        await #expect(throws: ConferenceSetupError(missingFields: ["credential_connection_id"], provider: .telnyx)) {
            _ = try await telnyx().browserToken(
                clientID: "agent", params: [:], storedCredentialID: nil, now: Date(), logger: .init(label: "test"))
        }
    }
}
