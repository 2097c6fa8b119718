import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOHTTP1
import Persistence
import ProviderSimulators
import Providers
import TestSupport
import Testing

@testable import App

/// Issue 10 against the provider simulators over real sockets: unanswered cold calls end, answer
/// webhooks only serve live calls of their organization, recording follows the organization's policy,
/// events of another organization's calls change nothing.
@Suite struct ColdCallHardeningTests {
    let flow = ColdCallEndToEndTests()

    // MARK: - Item 3: the contact never answers

    @Test(arguments: [
        (ProviderName.twilio, "+14155550486", "busy"), (.twilio, "+14155550404", "no-answer"),
        (.telnyx, "+14155550486", "busy"), (.telnyx, "+14155550404", "no-answer"),
        (.twilio, "+14155550500", "failed"),
    ])
    func anUnansweredColdCallEndsTheSessionAndRefusesJoinAndControl(
        _ provider: ProviderName, _ to: String, _ expected: String
    ) async throws {
        try await LiveStack.run(settings: ColdCallEndToEndTests.settings) { stack in
            try await flow.configureColdCalls(stack, provider)
            let initiated = try await stack.send(
                .POST, "/api/v1/cold-call/initiate", key: stack.harness.acmeService, json: ["to_phone": to])
            #expect(initiated.status == 201, "\(initiated.text)")
            let conferenceID = try #require(initiated.object["conference_id"] as? String)
            let status = try await flow.waitForStatus(stack, conferenceID, "the session to end") {
                $0["status"] as? String == "completed"
            }
            #expect(status["ended_reason"] as? String == expected)
            #expect(status["call_status"] as? String == expected)
            #expect(status["ended_at"] is String)
            let join = try await stack.send(
                .POST, "/api/v1/cold-call/webrtc-join", key: stack.harness.acmeService,
                json: ["conference_id": conferenceID, "client_id": "agent-7"])
            #expect(join.status == 409, "\(join.text)")
            #expect((join.object["error"] as? [String: Any])?["code"] as? String == "conference_ended")
            let control = try await stack.send(
                .POST, "/api/v1/cold-call/control/mute", key: stack.harness.acmeService,
                json: ["conference_id": conferenceID, "participant_id": UUID().uuidString.lowercased()])
            #expect(control.status == 409, "\(control.text)")
            // The dial is audited once (no contact: no contact_id, and never the number); the refused
            // join and control are not.
            let postgres = stack.harness.postgres
            let organizationID = stack.harness.acme.id
            let initiate = try await AuditRow.all(postgres, organizationID: organizationID, action: "cold_call.initiate")
            #expect(initiate.count == 1)
            #expect(initiate.first?.target == conferenceID)
            #expect(initiate.first?.details["result"] == "ok" && initiate.first?.details["contact_id"] == nil)
            #expect(initiate.first.map { !$0.detailsText.contains(to) } == true)
            #expect(try await AuditRow.count(postgres, organizationID: organizationID, prefix: "cold_call.") == 1)
        }
    }

    // MARK: - Item 12: shared environment credentials, another tenant's events

    /// Posts a Telnyx event signed with the account's key (what Telnyx signs: timestamp|body, not the URL).
    static func postTelnyx(_ stack: LiveStack, _ url: String, _ text: String) async throws -> Int {
        let account = try #require(stack.accounts.telnyx.first)
        let body = Array(text.utf8)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature = try account.webhookSigningKey.signature(for: Array("\(timestamp)|".utf8) + body)
        return try await LiveStack.request(
            .POST, url,
            raw: ("application/json", text),
            headers: [("telnyx-timestamp", timestamp), ("telnyx-signature-ed25519", Data(signature).base64EncodedString())]
        ).status
    }

    static func telnyxEvent(_ type: String, callID: String, extra: String = "") -> String {
        #"{"data":{"record_type":"event","event_type":"\#(type)","id":"\#(UUID().uuidString.lowercased())","occurred_at":"2026-12-03T10:00:00.000000Z","payload":{"call_control_id":"\#(callID)","call_leg_id":"\#(UUID().uuidString.lowercased())","call_session_id":"\#(UUID().uuidString.lowercased())","connection_id":"c","from":"+14155550100","to":"+14155550123","state":"hangup","hangup_cause":"normal_clearing"\#(extra)}},"meta":{"attempt":1,"delivered_to":"x"}}"#
    }

    /// With `TELEPHONY_ENVIRONMENT_ORGANIZATIONS=a,b` both organizations verify Telnyx events with the
    /// same public key, so an event of a's call verifies on b's URLs. It is acknowledged there and
    /// changes nothing: not stored, a's call untouched, a's agent leg not hung up.
    @Test func anotherTenantsEventOnSharedCredentialsIsAcknowledgedAndChangesNothing() async throws {
        let a = UUID()
        let b = UUID()
        try await LiveStack.run(settings: ColdCallEndToEndTests.settings, server: { configuration, accounts in
            let account = try #require(accounts.telnyx.first)
            let loaded = try AppConfiguration.load(
                from: [
                    "TELNYX_API_KEY": account.apiKey, "TELNYX_CONNECTION_ID": account.connectionIDs[0],
                    "TELNYX_PHONE_NUMBER": account.numbers[0], "TELNYX_PUBLIC_KEY": account.publicKeyBase64,
                    "TELEPHONY_ENVIRONMENT_ORGANIZATIONS": "\(a.uuidString.lowercased()),\(b.uuidString.lowercased())",
                ], needs: [])
            configuration.environmentProviders = loaded.environmentProviders
            configuration.environmentScope = loaded.environmentScope
        }) { stack in
            let postgres = stack.harness.postgres
            for (id, slug) in [(a, "tenant-a"), (b, "tenant-b")] {
                try await postgres.query(
                    "INSERT INTO organizations (id, slug, name) VALUES (\(id), \(slug), \(slug))", logger: TestDatabase.logger)
            }
            // a's call, placed.
            let calls = stack.harness.dependencies.calls
            guard
                case .started(let call) = try await calls.begin(
                    organizationID: a,
                    call: NewCall(
                        provider: "telnyx", fromNumber: "+14155550100", toNumber: "+14155550123", workflowID: nil,
                        workflowRunID: nil, idempotencyKey: nil, requestHash: "h", createdBy: nil),
                    logger: TestDatabase.logger)
            else { throw CancellationError() }
            let providerCallID = "v3:" + UUID().uuidString.lowercased()
            _ = try await calls.markPlaced(
                organizationID: a, id: call.id, providerCallID: providerCallID, status: "queued", rawStatus: "queued",
                logger: TestDatabase.logger)
            func events(_ organization: UUID) async throws -> Int {
                let rows = try await postgres.query(
                    "SELECT count(*)::int FROM webhook_events WHERE organization_id = \(organization)", logger: TestDatabase.logger)
                var count = 0
                for try await value in rows.decode(Int.self) { count = value }
                return count
            }
            func url(_ organization: UUID, _ kind: String) -> String {
                "\(stack.baseURL)/api/v1/telephony/webhooks/telnyx/\(organization.uuidString.lowercased())/\(kind)"
            }

            // a's hang-up event replayed on b's status route and b's cold-call route: 2xx, nothing stored or changed.
            let hangup = Self.telnyxEvent("call.hangup", callID: providerCallID)
            #expect(try await Self.postTelnyx(stack, url(b, "status"), hangup) / 100 == 2)
            #expect(try await Self.postTelnyx(stack, url(b, "cold-call/events"), Self.telnyxEvent("call.hangup", callID: providerCallID)) / 100 == 2)
            #expect(try await events(b) == 0)
            let untouched = try await calls.get(organizationID: a, id: call.id, logger: TestDatabase.logger)
            #expect(untouched?.status == "queued")

            // a's agent's inbound browser leg (a's conference token in its client state) on b's route: not hung up.
            let token = stack.harness.dependencies.conferenceTokens.token(
                for: ConferenceToken(
                    organizationID: a, conferenceID: UUID(), role: .agent, clientID: "agent-1",
                    expires: Int(Date().timeIntervalSince1970) + 600))
            let agentLegUUID = UUID().uuidString.lowercased()
            let agentLeg = "v3:" + agentLegUUID
            let inbound = Self.telnyxEvent(
                "call.initiated", callID: agentLeg,
                extra: #","direction":"incoming","client_state":"\#(Data(token.utf8).base64EncodedString())""#)
            #expect(try await Self.postTelnyx(stack, url(b, "cold-call/events"), inbound) / 100 == 2)
            try await Task.sleep(for: .milliseconds(200))
            #expect(!stack.simulator.requests().contains { $0.path.contains(agentLegUUID) }, "b hung up a's agent leg")
            #expect(try await events(b) == 0)

            // The same hang-up on a's own route is a's event: stored once, the call ends.
            #expect(try await Self.postTelnyx(stack, url(a, "status"), hangup) / 100 == 2)
            #expect(try await events(a) == 1)
            let ended = try await calls.get(organizationID: a, id: call.id, logger: TestDatabase.logger)
            #expect(ended?.status == "completed")
        }
    }

    // MARK: - Item 13: the join answer's expiry is the admission token's

    /// Telnyx's login token lives 24 h, but the conference token that admits the browser leg lives
    /// `ConferenceToken.lifetime`: `expires_at` says when joining stops working, the earlier of the two.
    @Test func theTelnyxJoinAnswerExpiresWithItsAdmissionToken() async throws {
        try await LiveStack.run(settings: ColdCallEndToEndTests.settings) { stack in
            try await flow.configureColdCalls(stack, .telnyx)
            let initiated = try await stack.send(
                .POST, "/api/v1/cold-call/initiate", key: stack.harness.acmeService, json: ["to_phone": "+14155550123"])
            let conferenceID = try #require(initiated.object["conference_id"] as? String)
            let join = try await stack.send(
                .POST, "/api/v1/cold-call/webrtc-join", key: stack.harness.acmeService,
                json: ["conference_id": conferenceID, "client_id": "agent-7"])
            #expect(join.status == 200, "\(join.text)")
            let raw = try #require(join.object["expires_at"] as? String)
            let expiresAt = try Date(raw, strategy: .iso8601)
            let expected = Date().addingTimeInterval(ConferenceToken.lifetime)
            #expect(abs(expiresAt.timeIntervalSince(expected)) < 60, "expires_at \(raw)")
            // The admission token in call_options carries the same expiry.
            let state = try #require((join.object["call_options"] as? [String: Any])?["client_state"] as? String)
            let token = String(decoding: try #require(Data(base64Encoded: state)), as: UTF8.self)
            let claim = try #require(stack.harness.dependencies.conferenceTokens.claim(token, now: Date()))
            #expect(TimeInterval(claim.expires) == expiresAt.timeIntervalSince1970)
        }
    }

    // MARK: - Item 5: a bridge whose result was lost is redone, not duplicated

    /// The provider created the conference but the commit that records it failed (simulated: the
    /// session is put back as that failure leaves it — no conference id, the leg's claim, no
    /// participant). Telnyx's retry of `call.answered` finds the conference by name instead of
    /// creating a second one (which Telnyx refuses: the leg is already in a conference).
    @Test func aBridgeWhoseCommitFailedIsRecoveredByTheRetry() async throws {
        try await LiveStack.run(settings: ColdCallEndToEndTests.settings) { stack in
            try await flow.configureColdCalls(stack, .telnyx)
            let initiated = try await stack.send(
                .POST, "/api/v1/cold-call/initiate", key: stack.harness.acmeService, json: ["to_phone": "+14155550123"])
            let conferenceID = try #require(initiated.object["conference_id"] as? String)
            let contactLeg = try #require(initiated.object["provider_call_id"] as? String)
            _ = try await flow.waitForStatus(stack, conferenceID, "the contact to join") {
                ColdCallEndToEndTests.joined($0, role: "contact") != nil
            }
            let conferences = stack.simulator.conferences().filter { $0.name == "sb-\(conferenceID)" }
            #expect(conferences.count == 1)
            let postgres = stack.harness.postgres
            let id = try #require(UUID(uuidString: conferenceID))
            try await postgres.query(
                """
                UPDATE conferences SET provider_conference_id = NULL, status = 'init', started_at = NULL,
                    bridge_lease_call = \(contactLeg), bridge_lease_until = NULL
                WHERE id = \(id)
                """, logger: TestDatabase.logger)
            try await postgres.query("DELETE FROM conference_participants WHERE conference_id = \(id)", logger: TestDatabase.logger)

            let answered = try #require(
                stack.simulator.webhooks().first {
                    $0.provider == "telnyx" && $0.bodyText.contains("\"call.answered\"") && $0.bodyText.contains(contactLeg)
                })
            let retry = try await Self.postTelnyx(stack, answered.url, answered.bodyText)
            #expect(retry / 100 == 2, "the retry answered \(retry)")
            let stored = try #require(
                try await stack.harness.dependencies.conferences.get(
                    organizationID: stack.harness.acme.id, id: id, logger: TestDatabase.logger))
            #expect(stored.providerConferenceID == conferences.first?.id)
            let participants = try await stack.harness.dependencies.conferences.participants(
                organizationID: stack.harness.acme.id, conferenceID: id, logger: TestDatabase.logger)
            #expect(participants.map(\.providerCallID) == [contactLeg])
            let creates = stack.simulator.requests().filter { $0.method == "POST" && $0.path.hasSuffix("/v2/conferences") }
            #expect(creates.count == 1)
        }
    }

    // MARK: - Item 9: the recording policy

    /// Dials, lets the contact answer, joins the agent from the simulated browser, ends the session,
    /// and waits for the call to be completed in the log; returns the log entry and the session id.
    func runSession(_ stack: LiveStack, _ provider: ProviderName, expectRecording: Bool) async throws
        -> (entry: [String: Any], conferenceID: String, providerCallID: String)
    {
        let key = stack.harness.acmeService
        let initiated = try await stack.send(.POST, "/api/v1/cold-call/initiate", key: key, json: ["to_phone": "+14155550123"])
        #expect(initiated.status == 201, "\(initiated.text)")
        let conferenceID = try #require(initiated.object["conference_id"] as? String)
        let callID = try #require(initiated.object["call_id"] as? String)
        let providerCallID = try #require(initiated.object["provider_call_id"] as? String)
        _ = try await flow.waitForStatus(stack, conferenceID, "the contact to join") {
            ColdCallEndToEndTests.joined($0, role: "contact") != nil
        }
        let join = try await stack.send(
            .POST, "/api/v1/cold-call/webrtc-join", key: key, json: ["conference_id": conferenceID, "client_id": "agent-7"])
        #expect(join.status == 200, "\(join.text)")
        if provider == .twilio {
            let token = try #require(join.object["access_token"] as? String)
            let connect = try await LiveStack.request(
                .POST, "http://127.0.0.1:\(stack.simulator.port)/twilio/_sim/client-calls",
                json: ["access_token": token, "params": [String: String]()])
            #expect(connect.status == 201, "browser connect: \(connect.text)")
        } else {
            let token = try #require(join.object["login_token"] as? String)
            let clientState = try #require((join.object["call_options"] as? [String: Any])?["client_state"] as? String)
            let connect = try await LiveStack.request(
                .POST, "http://127.0.0.1:\(stack.simulator.port)/telnyx/_sim/webrtc-calls",
                json: ["login_token": token, "destination_number": "conference", "client_state": clientState])
            #expect(connect.status == 201, "browser connect: \(connect.text)")
        }
        _ = try await flow.waitForStatus(stack, conferenceID, "the agent to join") {
            ColdCallEndToEndTests.joined($0, role: "agent") != nil && $0["status"] as? String == "in-progress"
        }
        // Let the recording run a moment, then end.
        try await Task.sleep(for: .milliseconds(300))
        let end = try await stack.send(.POST, "/api/v1/cold-call/end", key: key, json: ["conference_id": conferenceID])
        #expect(end.status == 200, "\(end.text)")
        var entry: [String: Any] = [:]
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(15) {
            let log = try await stack.send(.GET, "/api/v1/cold-call/calls", key: key)
            entry = (log.object["calls"] as? [[String: Any]])?.first { $0["call_id"] as? String == callID } ?? [:]
            if entry["status"] as? String == "completed", !expectRecording || entry["recording_url"] != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        if !expectRecording {
            // Give a (wrong) recording event the time to arrive.
            try await Task.sleep(for: .milliseconds(500))
            let log = try await stack.send(.GET, "/api/v1/cold-call/calls", key: key)
            entry = (log.object["calls"] as? [[String: Any]])?.first { $0["call_id"] as? String == callID } ?? [:]
        }
        return (entry, conferenceID, providerCallID)
    }

    /// Without a RECORDING_POLICY nothing is recorded: the provider is not asked to record, and no
    /// recording arrives.
    @Test(arguments: [ProviderName.twilio, .telnyx])
    func withoutARecordingPolicyNothingIsRecorded(_ provider: ProviderName) async throws {
        try await LiveStack.run(settings: ColdCallEndToEndTests.settings) { stack in
            try await flow.configureColdCalls(stack, provider, recording: nil)
            let (entry, _, _) = try await runSession(stack, provider, expectRecording: false)
            #expect(entry["status"] as? String == "completed", "\(entry)")
            #expect(entry["recording_url"] == nil, "\(entry)")
            let dial = try #require(
                stack.simulator.requests().first {
                    $0.method == "POST" && ($0.path.hasSuffix("/Calls.json") || $0.path.hasSuffix("/v2/calls"))
                })
            #expect(!dial.bodyText.contains("Record") && !dial.bodyText.contains("\"record\""), "\(dial.bodyText)")
            #expect(!stack.simulator.webhooks().contains { $0.bodyText.contains("RecordingSid") || $0.bodyText.contains("call.recording.saved") })
        }
    }

    /// `on_with_announcement`: the contact hears the announcement first and recording starts after it
    /// — Twilio: `<Say>` before `<Dial>` in the contact's markup, no `Record` on the call, the conference
    /// recorded from its start; Telnyx: no `record` on the dial, `speak` to the answered leg, then
    /// `record_start` once Telnyx reports it spoken. The recording reaches the call log.
    @Test(arguments: [ProviderName.twilio, .telnyx])
    func anAnnouncementIsPlayedBeforeRecordingStarts(_ provider: ProviderName) async throws {
        let announcement = "This call is recorded for training & quality."
        try await LiveStack.run(settings: ColdCallEndToEndTests.settings) { stack in
            try await flow.configureColdCalls(
                stack, provider, recording: ["mode": "on_with_announcement", "announcement": announcement])
            let (entry, _, providerCallID) = try await runSession(stack, provider, expectRecording: true)
            #expect((entry["recording_url"] as? String)?.hasPrefix("https://") == true, "\(entry)")
            let requests = stack.simulator.requests()
            let dial = try #require(
                requests.first { $0.method == "POST" && ($0.path.hasSuffix("/Calls.json") || $0.path.hasSuffix("/v2/calls")) })
            #expect(!dial.bodyText.contains("Record") && !dial.bodyText.contains("\"record\""), "\(dial.bodyText)")
            switch provider {
            case .twilio:
                let markup = try #require(stack.simulator.twimlFetches().first { $0.callSID == providerCallID })
                let body = markup.responseBody
                let say = try #require(body.range(of: "<Say>This call is recorded for training &amp; quality.</Say>"), "\(body)")
                let dialVerb = try #require(body.range(of: "<Dial>"))
                #expect(say.upperBound <= dialVerb.lowerBound)
                #expect(body.contains(#"record="record-from-start""#))
            default:
                let speak = try #require(requests.firstIndex { $0.path.hasSuffix("/actions/speak") })
                let record = try #require(requests.firstIndex { $0.path.hasSuffix("/actions/record_start") })
                #expect(speak < record)
                #expect(requests[speak].bodyText.contains("This call is recorded for training"))
                #expect(requests[speak].path.contains(providerCallID.dropFirst(3)))
            }
        }
    }
}
