import AsyncHTTPClient
import Foundation
import Testing

@testable import Providers

/// The clients read the providers' own example payloads (copied into `Tests/Fixtures/Published`,
/// each directory's SOURCES.md naming the published file) the way the published definitions mean them.
@Suite struct PublishedPayloadTests {
    /// `Tests/Fixtures/Published/<path>`.
    static func fixture(_ path: String) throws -> Data {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try Data(contentsOf: tests.appendingPathComponent("Fixtures/Published/\(path)"))
    }

    static func object(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: fixture(path)) as? [String: Any])
    }

    static func json(_ path: String) throws -> WebhookRequest {
        WebhookRequest(
            method: "POST", url: "https://switchboard.example/events", headers: [("Content-Type", "application/json")],
            body: Array(try fixture(path)))
    }

    /// A fixture holding form parameters as a JSON object, sent form-encoded.
    static func form(_ path: String, dropping: Set<String> = []) throws -> WebhookRequest {
        let parameters = try object(path).compactMapValues { $0 as? String }.filter { !dropping.contains($0.key) }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        let body = parameters.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }
            .joined(separator: "&")
        return WebhookRequest(
            method: "POST", url: "https://switchboard.example/events",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8))
    }

    var http: ProviderHTTPClient { ProviderHTTPClient(client: .shared) }

    func twilio() throws -> TwilioProvider {
        TwilioProvider(
            configuration: try TwilioConfiguration(document: Fixtures.twilioDocument), previous: nil,
            previousValidUntil: nil, http: http, baseURL: TwilioProvider.defaultBaseURL)
    }

    func telnyx() throws -> TelnyxProvider {
        TelnyxProvider(
            configuration: try TelnyxConfiguration(document: Fixtures.telnyxDocument), previous: nil,
            previousValidUntil: nil, http: http, baseURL: TelnyxProvider.defaultBaseURL)
    }

    func vonage() throws -> VonageProvider {
        VonageProvider(
            configuration: try VonageConfiguration(document: try Fixtures.vonageDocument()), previous: nil,
            previousValidUntil: nil, http: http, baseURL: VonageProvider.defaultBaseURL,
            restBaseURL: VonageProvider.defaultRESTBaseURL)
    }

    func plivo() throws -> PlivoProvider {
        PlivoProvider(
            configuration: try PlivoConfiguration(document: Fixtures.plivoDocument), previous: nil,
            previousValidUntil: nil, http: http, baseURL: PlivoProvider.defaultBaseURL)
    }

    // MARK: - Timestamps

    @Test(arguments: [
        ("2018-02-02T22:25:27.521992Z", 1_517_610_327.521992),
        ("2018-02-02T22:25:27Z", 1_517_610_327),
        ("2020-01-01T14:00:00.000Z", 1_577_887_200),
        ("2020-01-01T14:00:00.5+01:00", 1_577_883_600.5),
        ("2020-01-01T14:00:00-05:30", 1_577_907_000),
        ("2020-01-01 12:00:00", 1_577_880_000),
        ("2024-06-04 12:00:00+00:00", 1_717_502_400),
        ("2022-06-28 14:09:04.050872", 1_656_425_344.050872),
    ])
    func iso8601WithAndWithoutFractionsAndOffsets(text: String, seconds: Double) throws {
        let date = try #require(ISO8601Timestamp.parse(text), "\(text)")
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_002, "\(text)")
    }

    @Test(arguments: ["", "2020-01-01", "2020-13-01T00:00:00Z", "2020-01-01T25:00:00Z", "2020-01-01T00:00:00.Z",
        "2020-01-01T00:00:00+0", "2020-01-01T00:00:00Zjunk", "yesterday", "2020-02-30T00:00:00Z"])
    func notATimestamp(text: String) {
        #expect(ISO8601Timestamp.parse(text) == nil, "\(text)")
    }

    @Test func fractionsOrderEventsWithinOneSecond() throws {
        let earlier = try #require(ISO8601Timestamp.parse("2018-02-02T22:25:27.521992Z"))
        let later = try #require(ISO8601Timestamp.parse("2018-02-02T22:25:27.521993Z"))
        #expect(earlier < later)
    }

    // MARK: - Telnyx

    @Test func telnyxHangupFromThePublishedExample() throws {
        let example = try Self.object("telnyx/call.hangup.json")
        let payload = try #require((example["data"] as? [String: Any])?["payload"] as? [String: Any])
        let event = try telnyx().parseStatusCallback(try Self.json("telnyx/call.hangup.json"))
        #expect(event.providerCallID == payload["call_control_id"] as? String)
        #expect(event.providerLegID == payload["call_leg_id"] as? String)
        let occurred = try #require(event.occurredAt)
        // The example's occurred_at carries microseconds; they are kept.
        #expect(occurred.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) > 0)
        let cause = try #require(payload["hangup_cause"] as? String)
        #expect(event.rawStatus.hasPrefix("call.hangup:\(cause)"))
        if let source = payload["hangup_source"] as? String { #expect(event.rawStatus.contains(";source=\(source)")) }
        if let sip = payload["sip_hangup_cause"] as? String { #expect(event.rawStatus.contains(";sip=\(sip)")) }
    }

    /// Each published `hangup_cause` (telnyx-python `types/call_hangup.py`) on purpose; a value the
    /// definition gains or loses fails here first.
    @Test func telnyxEveryPublishedHangupCauseIsMappedDeliberately() throws {
        let published = try #require(try Self.object("telnyx/hangup_causes.json")["hangup_cause"] as? [String])
        let expected: [String: CallStatus] = [
            "call_rejected": .failed, "normal_clearing": .completed, "originator_cancel": .canceled,
            "timeout": .noAnswer, "time_limit": .completed, "user_busy": .busy, "not_found": .failed,
            "no_answer": .noAnswer, "unspecified": .failed,
        ]
        #expect(Set(published) == Set(expected.keys))
        for cause in published {
            #expect(TelnyxProvider.status(eventType: "call.hangup", hangupCause: cause) == expected[cause], "\(cause)")
        }
        let raw = TelnyxProvider.rawStatus(
            eventType: "call.hangup",
            payload: ["hangup_cause": "user_busy", "hangup_source": "callee", "sip_hangup_cause": "486"])
        #expect(raw == "call.hangup:user_busy;source=callee;sip=486")
    }

    @Test func telnyxRecordingSavedIsCorrelatedByItsLeg() throws {
        let example = try Self.object("telnyx/call.recording.saved.json")
        let payload = try #require((example["data"] as? [String: Any])?["payload"] as? [String: Any])
        #expect(payload["call_control_id"] == nil)
        let event = try telnyx().parseConferenceEvent(try Self.json("telnyx/call.recording.saved.json"))
        #expect(event.kind == .recordingCompleted)
        #expect(event.providerLegID == payload["call_leg_id"] as? String)
        #expect(event.clientState == "have a nice day =]")
        #expect(event.recording?.url.hasPrefix("https://") == true)
        // recording_ended_at − recording_started_at, fractions included: 299.39 s.
        #expect(event.recording?.durationSeconds == 299)
        let fields = try #require(try Self.object("telnyx/call.recording.saved.fields.json")["payload_fields"] as? [String])
        #expect(Set(payload.keys) == Set(fields))
    }

    @Test(arguments: ["telnyx/conference.ended.json", "telnyx/conference.participant.left.json"])
    func telnyxConferenceExamplesKeepTheirFractions(path: String) throws {
        let event = try telnyx().parseConferenceEvent(try Self.json(path))
        let occurred = try #require(event.occurredAt)
        #expect(occurred.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) > 0)
    }

    // MARK: - Twilio

    @Test func twilioCallDurationIsSecondsAndDurationIsNeverRead() throws {
        // The published callback: CallDuration=83 (seconds), Duration=2 (minutes, rounded up).
        let event = try twilio().parseStatusCallback(try Self.form("twilio/call_status_callback.json"))
        #expect(event.durationSeconds == 83)
        #expect(event.status == .completed)
        let minutesOnly = try twilio().parseStatusCallback(
            try Self.form("twilio/call_status_callback.json", dropping: ["CallDuration"]))
        #expect(minutesOnly.durationSeconds == nil)
    }

    @Test func twilioEveryPublishedCallStatusIsKnown() throws {
        let enums = try Self.object("twilio/enums.json")
        let statuses = try #require(enums["call_status"] as? [String])
        #expect(!statuses.isEmpty)
        for status in statuses {
            #expect(CallStatus(rawValue: status) != nil, "\(status)")
        }
    }

    // MARK: - Vonage

    static let vonageEvents = [
        "answered", "busy", "cancelled", "completed", "disconnected", "error", "failed", "human", "input",
        "input.dtmf", "input.speech", "machine", "notify", "recording", "rejected", "ringing", "started", "timeout",
        "transfer", "unanswered",
    ]

    /// Every example in Vonage's webhook reference is read: those with a `status` move the call,
    /// the others are kept with their kind as the raw status.
    @Test(arguments: vonageEvents)
    func vonageEveryPublishedEventIsRead(name: String) throws {
        let path = "vonage/event.\(name).json"
        let example = try Self.object(path)
        let event = try vonage().parseStatusCallback(try Self.json(path))
        if let status = example["status"] as? String {
            #expect(event.rawStatus == status)
            #expect(event.providerCallID == (example["uuid"] ?? example["call_uuid"]) as? String)
        } else {
            #expect(event.status == nil)
            #expect(["input", "record", "transfer", "error", "notify"].contains(event.rawStatus), "\(event.rawStatus)")
            #expect(!event.eventKey.isEmpty)
        }
        if let timestamp = example["timestamp"] as? String {
            #expect(event.occurredAt == ISO8601Timestamp.parse(timestamp))
            #expect(event.occurredAt != nil, "\(timestamp)")
        }
    }

    @Test func vonageStatusesOfTheDefinitionAreMapped() throws {
        let statuses = try #require(try Self.object("vonage/event.statuses.json")["status"] as? [String])
        for status in statuses where !["machine"].contains(status) {
            #expect(VonageProvider.status(status) != nil, "\(status)")
        }
    }

    @Test func vonageEventsWithoutATimestampAreKeyedByTheirBody() throws {
        func request(_ body: String) -> WebhookRequest {
            WebhookRequest(
                method: "POST", url: "https://switchboard.example/events", headers: [("Content-Type", "application/json")],
                body: Array(body.utf8))
        }
        let first = try vonage().parseStatusCallback(request(#"{"conversation_uuid":"CON-1","reason":"a"}"#))
        let second = try vonage().parseStatusCallback(request(#"{"conversation_uuid":"CON-1","reason":"b"}"#))
        #expect(first.rawStatus == "error" && first.providerCallID == "CON-1")
        #expect(first.eventKey != second.eventKey)
    }

    // MARK: - Plivo

    @Test(arguments: ["plivo/callback.ring.json", "plivo/callback.answer.json", "plivo/callback.hangup.json"])
    func plivoCallbacksNameTheRequestAndTheCall(path: String) throws {
        let example = try Self.object(path)
        let event = try plivo().parseStatusCallback(try Self.form(path))
        #expect(event.providerCallID == (example["ALegRequestUUID"] ?? example["RequestUUID"]) as? String)
        #expect(event.providerLegID == example["CallUUID"] as? String)
        #expect(event.providerCallID != event.providerLegID)
    }

    @Test func plivoEveryPublishedCallStatusIsMapped() throws {
        let statuses = try #require(try Self.object("plivo/callback.call_status.values.json")["CallStatus"] as? [String])
        for status in statuses {
            #expect(PlivoProvider.status(status) != nil, "\(status)")
        }
    }
}
