import Foundation
import ProviderSimulators
import Testing

/// Twilio: TwiML fetched on answer, `<Dial><Conference>`, the Conferences and Participants REST resources, conference
/// status callbacks, recordings and applications.
@Suite struct TwilioConferenceTests {
    static let conferenceTwiML = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Response><Dial><Conference statusCallback="/conference-events" \
        statusCallbackEvent="start end join leave mute hold speaker" beep="false">room-1</Conference></Dial></Response>
        """

    private func auth(_ harness: SimulatorHarness) -> (String, String) {
        SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
    }

    private func accountURL(_ harness: SimulatorHarness) -> String {
        "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)"
    }

    private func form(_ harness: SimulatorHarness, _ method: String, _ url: String, _ parameters: [(String, String)] = [])
        async throws -> HTTPResult
    {
        try await harness.send(
            method, url, headers: [auth(harness), ("Content-Type", "application/x-www-form-urlencoded")],
            body: method == "GET" ? nil : SimulatorHarness.form(parameters))
    }

    /// Places a call whose answer fetches TwiML from the receiver's `path`; returns its SID.
    private func placeCall(
        _ harness: SimulatorHarness, path: String = "/twiml", to: String = "+14155550100", extra: [(String, String)] = []
    ) async throws -> String {
        let response = try await form(
            harness, "POST", accountURL(harness) + "/Calls.json",
            [("To", to), ("From", harness.twilio.numbers[0]), ("Url", harness.receiver.url(path))] + extra)
        #expect(response.status == 201, "\(response.bodyText)")
        return try #require(response.json()?["sid"] as? String)
    }

    private func conference(_ harness: SimulatorHarness, named name: String) -> SimulatedConferenceSnapshot? {
        harness.simulator.conferences().last { $0.provider == "twilio" && $0.name == name }
    }

    private func presentCalls(_ snapshot: SimulatedConferenceSnapshot?) -> [String] {
        snapshot?.participants.filter { $0.leftAt == nil }.map(\.callID) ?? []
    }

    private func callStatus(_ harness: SimulatorHarness, _ sid: String) async throws -> String? {
        try await form(harness, "GET", accountURL(harness) + "/Calls/\(sid).json").json()?["status"] as? String
    }

    @Test func answeredCallFetchesSignedTwiMLAndJoinsTheConference() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            harness.receiver.respond(to: "/twiml", with: Self.conferenceTwiML)
            // As Switchboard's answer URL does, the TwiML URL carries a query; the signature covers it.
            let sid = try await placeCall(harness, path: "/twiml?workflow_id=wf-1&workflow_run_id=run-1")
            let fetch = try #require(await harness.receiver.wait(for: 1, at: "/twiml").first)
            #expect(fetch.method == "POST")
            #expect(fetch.query == "workflow_id=wf-1&workflow_run_id=run-1")
            #expect(fetch.headers["content-type"]?.hasPrefix("application/x-www-form-urlencoded") == true)
            #expect(
                IndependentVerifier.twilio(
                    token: harness.twilio.authToken, url: fetch.url, parameters: fetch.parameters,
                    signature: fetch.headers["x-twilio-signature"] ?? ""))
            let expected: [String: String] = [
                "AccountSid": harness.twilio.accountSID, "ApiVersion": "2010-04-01", "CallSid": sid,
                "CallStatus": "in-progress", "Direction": "outbound-api", "From": harness.twilio.numbers[0],
                "To": "+14155550100", "Called": "+14155550100", "Caller": harness.twilio.numbers[0],
            ]
            for (name, value) in expected { #expect(fetch.parameter(name) == value, "\(name)") }

            #expect(await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-1")) == [sid] })
            var snapshot = try #require(conference(harness, named: "room-1"))
            // Twilio's <Conference> documentation: "Conferences will not start until at least two
            // participants join" — a lone participant, even with startConferenceOnEnter, waits.
            #expect(snapshot.status == "init")
            #expect(snapshot.id.wholeMatch(of: /CF[0-9a-f]{32}/) != nil)
            let waiting = try await form(
                harness, "GET", accountURL(harness) + "/Conferences.json?FriendlyName=room-1&Status=init")
            #expect((waiting.json()?["conferences"] as? [[String: Any]])?.compactMap { $0["sid"] as? String } == [snapshot.id])
            let second = try await placeCall(harness, to: "+14155550101")
            #expect(
                await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-1")) == [sid, second] })
            snapshot = try #require(conference(harness, named: "room-1"))
            #expect(snapshot.status == "in-progress")

            let fetches = harness.simulator.twimlFetches()
            #expect(fetches.count == 2)
            #expect(fetches.first?.callSID == sid && fetches.first?.responseStatus == 200)
            #expect(fetches.first?.responseBody.contains("room-1") == true)
            #expect(fetches.first?.parameters.first { $0.0 == "CallStatus" }?.1 == "in-progress")
            // TwiML fetches are not status webhooks.
            #expect(!harness.simulator.webhooks().contains { $0.url.contains("/twiml") })

            let listed = try await form(
                harness, "GET", accountURL(harness) + "/Conferences.json?FriendlyName=room-1&Status=in-progress")
            let conferences = try #require(listed.json()?["conferences"] as? [[String: Any]])
            #expect(conferences.count == 1)
            #expect(conferences.first?["sid"] as? String == snapshot.id)
            #expect(conferences.first?["region"] as? String == "us1")
            let participants = try await form(
                harness, "GET", accountURL(harness) + "/Conferences/\(snapshot.id)/Participants.json")
            let items = try #require(participants.json()?["participants"] as? [[String: Any]])
            #expect(items.map { $0["call_sid"] as? String } == [sid, second])
            #expect(items.first?["status"] as? String == "connected")
            #expect(items.first?["start_conference_on_enter"] as? Bool == true)
        }
    }

    @Test func reportsConferenceEventsInOrderWithSignedSequenceNumbers() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            harness.receiver.respond(to: "/twiml", with: Self.conferenceTwiML)
            let first = try await placeCall(harness)
            #expect(await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-1")) == [first] })
            let second = try await placeCall(harness, to: "+14155550101")
            #expect(
                await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-1")) == [first, second] })
            let sid = try #require(conference(harness, named: "room-1")?.id)
            let participants = accountURL(harness) + "/Conferences/\(sid)/Participants"

            let muted = try await form(harness, "POST", participants + "/\(first).json", [("Muted", "true")])
            #expect(muted.status == 200)
            #expect(muted.json()?["muted"] as? Bool == true)
            #expect(muted.json()?["conference_sid"] as? String == sid)
            #expect(muted.json()?["coaching"] as? Bool == false)
            #expect(muted.json()?["label"] is NSNull)
            let held = try await form(harness, "POST", participants + "/\(second).json", [("Hold", "true")])
            #expect(held.json()?["hold"] as? Bool == true)
            _ = try await form(harness, "POST", participants + "/\(first).json", [("Muted", "false"), ("Hold", "false")])
            // The callee of the second call hangs up through the API: it leaves the conference.
            let hangup = try await form(harness, "POST", accountURL(harness) + "/Calls/\(second).json", [("Status", "completed")])
            #expect(hangup.status == 200)
            let ended = try await form(harness, "POST", accountURL(harness) + "/Conferences/\(sid).json", [("Status", "completed")])
            #expect(ended.json()?["status"] as? String == "completed")

            let events = await harness.receiver.wait(for: 9, at: "/conference-events")
            #expect(
                events.map { $0.parameter("StatusCallbackEvent") } == [
                    "participant-join", "participant-join", "conference-start", "participant-mute", "participant-hold",
                    "participant-unmute", "participant-leave", "participant-leave", "conference-end",
                ])
            #expect(events.map { $0.parameter("SequenceNumber") } == (1...9).map { String($0) })
            #expect(events.map { $0.parameter("CallSid") } == [first, second, nil, first, second, first, second, first, nil])
            for event in events {
                #expect(event.method == "POST")
                #expect(event.parameter("ConferenceSid") == sid)
                #expect(event.parameter("FriendlyName") == "room-1")
                #expect(event.parameter("AccountSid") == harness.twilio.accountSID)
                #expect(event.parameter("Timestamp")?.hasSuffix("+0000") == true)
                #expect(
                    IndependentVerifier.twilio(
                        token: harness.twilio.authToken, url: harness.receiver.url("/conference-events"),
                        parameters: event.parameters, signature: event.headers["x-twilio-signature"] ?? ""))
            }
            let mute = events[3]
            #expect(mute.parameter("Muted") == "true" && mute.parameter("Hold") == "false")
            #expect(mute.parameter("Coaching") == "false")
            #expect(mute.parameter("StartConferenceOnEnter") == "true" && mute.parameter("EndConferenceOnExit") == "false")
            #expect(events.last?.parameter("ReasonConferenceEnded") == "conference-ended-via-api")
            #expect(events.last?.parameter("CallSidEndingConference") == nil)
            // The conference's events are status webhooks (an attempt is recorded once its answer is read,
            // a moment after the receiver saw it).
            #expect(
                await SimulatorHarness.eventually {
                    harness.simulator.webhooks().filter { $0.url.hasSuffix("/conference-events") }.count == 9
                })
        }
    }

    @Test func duplicatedAndShuffledConferenceEventsWaitForTheEnd() async throws {
        var settings = SimulatorHarness.talking
        settings.duplicateEveryWebhook = true
        settings.shuffleWebhooks = true
        try await SimulatorHarness.run(settings: settings) { harness in
            harness.receiver.respond(to: "/twiml", with: Self.conferenceTwiML)
            let call = try await placeCall(harness)
            #expect(await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-1")) == [call] })
            let sid = try #require(conference(harness, named: "room-1")?.id)
            _ = try await form(
                harness, "POST", accountURL(harness) + "/Conferences/\(sid)/Participants/\(call).json", [("Muted", "true")])
            try await Task.sleep(for: .milliseconds(150))
            // Held until the conference completes.
            #expect(harness.receiver.requests(at: "/conference-events").isEmpty)
            _ = try await form(harness, "POST", accountURL(harness) + "/Conferences/\(sid).json", [("Status", "completed")])
            // A lone participant never starts the conference: no conference-start among the events.
            let events = await harness.receiver.wait(for: 8, at: "/conference-events")
            #expect(events.count == 8)
            #expect(
                events.compactMap { $0.parameter("SequenceNumber") }.sorted()
                    == ["1", "1", "2", "2", "3", "3", "4", "4"])
            #expect(
                Set(events.compactMap { $0.parameter("StatusCallbackEvent") })
                    == ["participant-join", "participant-mute", "participant-leave", "conference-end"])
        }
    }

    @Test func endingTheConferenceThroughTheAPIEndsItsCalls() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            harness.receiver.respond(
                to: "/twiml", with: "<Response><Dial><Conference>room-2</Conference></Dial></Response>")
            let call = try await placeCall(
                harness, extra: [("StatusCallback", harness.receiver.url("/status")), ("StatusCallbackEvent", "completed")])
            #expect(await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-2")) == [call] })
            let sid = try #require(conference(harness, named: "room-2")?.id)
            let ended = try await form(harness, "POST", accountURL(harness) + "/Conferences/\(sid).json", [("Status", "completed")])
            #expect(ended.status == 200)
            #expect(ended.json()?["reason_conference_ended"] as? String == "conference-ended-via-api")
            #expect(ended.json()?["call_sid_ending_conference"] is NSNull)
            let status = try #require(await harness.receiver.wait(for: 1, at: "/status").first)
            #expect(status.parameter("CallSid") == call && status.parameter("CallStatus") == "completed")
            #expect(try await callStatus(harness, call) == "completed")
            #expect(conference(harness, named: "room-2")?.status == "completed")
            // Nothing of a completed conference can be changed any more.
            let participant = try await form(
                harness, "POST", accountURL(harness) + "/Conferences/\(sid)/Participants/\(call).json", [("Muted", "true")])
            #expect(participant.status == 404)
            #expect(participant.json()?["code"] as? Int == 20404)
            let list = try await form(harness, "GET", accountURL(harness) + "/Conferences/\(sid)/Participants.json")
            #expect((list.json()?["participants"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func aModeratorLeavingEndsTheConferenceForEveryone() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            harness.receiver.respond(
                to: "/moderator",
                with: """
                    <Response><Dial><Conference endConferenceOnExit="true" statusCallback="\(harness.receiver.url("/events"))" \
                    statusCallbackEvent="end">room-3</Conference></Dial></Response>
                    """)
            harness.receiver.respond(
                to: "/guest",
                with: """
                    <Response><Say>hi</Say><Dial><Conference startConferenceOnEnter="false" muted="true">room-3\
                    </Conference></Dial></Response>
                    """)
            let guest = try await placeCall(harness, path: "/guest")
            #expect(await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-3")) == [guest] })
            #expect(conference(harness, named: "room-3")?.status == "init")
            #expect(conference(harness, named: "room-3")?.participants.first?.muted == true)
            let moderator = try await placeCall(harness, path: "/moderator", to: "+14155550102")
            #expect(await SimulatorHarness.eventually { conference(harness, named: "room-3")?.status == "in-progress" })
            _ = try await form(harness, "POST", accountURL(harness) + "/Calls/\(moderator).json", [("Status", "completed")])
            let end = try #require(await harness.receiver.wait(for: 1, at: "/events").first)
            #expect(end.parameter("StatusCallbackEvent") == "conference-end")
            #expect(end.parameter("SequenceNumber") == "1")
            #expect(end.parameter("ReasonConferenceEnded") == "participant-with-end-conference-on-exit-left")
            #expect(end.parameter("CallSidEndingConference") == moderator)
            #expect(await SimulatorHarness.eventually(timeout: .seconds(20)) {
                harness.simulator.conferences().last?.participants.allSatisfy { $0.leftAt != nil } == true
            })
            var guestStatus: String?
            for _ in 0..<100 {
                guestStatus = try await callStatus(harness, guest)
                if guestStatus == "completed" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(guestStatus == "completed")
        }
    }

    @Test func participantUpdatesAreValidatedAndUnknownOnesAre404() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            harness.receiver.respond(to: "/twiml", with: Self.conferenceTwiML)
            let call = try await placeCall(harness)
            #expect(await SimulatorHarness.eventually { presentCalls(conference(harness, named: "room-1")) == [call] })
            let sid = try #require(conference(harness, named: "room-1")?.id)
            let participant = accountURL(harness) + "/Conferences/\(sid)/Participants/\(call).json"

            let badMute = try await form(harness, "POST", participant, [("Muted", "maybe")])
            #expect(badMute.status == 400)
            #expect(badMute.json()?["code"] as? Int == 20001)
            #expect(badMute.json()?["status"] as? Int == 400)
            let badHold = try await form(harness, "POST", participant, [("Muted", "true"), ("Hold", "later")])
            #expect(badHold.status == 400)
            // A refused update changes nothing.
            let current = try await form(harness, "GET", participant)
            #expect(current.status == 200)
            #expect(current.json()?["muted"] as? Bool == false)

            let unknownConference = try await form(
                harness, "GET", accountURL(harness) + "/Conferences/CF00000000000000000000000000000000.json")
            #expect(unknownConference.status == 404)
            #expect(unknownConference.json()?["code"] as? Int == 20404)
            let unknownParticipants = try await form(
                harness, "GET", accountURL(harness) + "/Conferences/CF00000000000000000000000000000000/Participants.json")
            #expect(unknownParticipants.status == 404)
            let stranger = try await form(
                harness, "POST", accountURL(harness) + "/Conferences/\(sid)/Participants/CA00000000000000000000000000000000.json",
                [("Muted", "true")])
            #expect(stranger.status == 404)
            #expect(stranger.json()?["code"] as? Int == 20404)
            let badStatus = try await form(
                harness, "POST", accountURL(harness) + "/Conferences/\(sid).json", [("Status", "in-progress")])
            #expect(badStatus.status == 400)

            // Once the call has ended, its participant is gone.
            _ = try await form(harness, "POST", accountURL(harness) + "/Calls/\(call).json", [("Status", "completed")])
            let gone = try await form(harness, "GET", participant)
            #expect(gone.status == 404)
            #expect(gone.json()?["code"] as? Int == 20404)
            #expect(conference(harness, named: "room-1")?.status == "completed")
            let events = await harness.receiver.wait(for: 4, at: "/conference-events")
            #expect(events.last?.parameter("ReasonConferenceEnded") == "last-participant-left")
            #expect(events.last?.parameter("CallSidEndingConference") == call)
        }
    }

    @Test func hangupTwiMLFailedFetchesAndInvalidTwiMLEndTheCall() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            harness.receiver.respond(to: "/hangup", with: "<Response><Hangup/></Response>")
            harness.receiver.respond(to: "/broken", status: 500, with: "oops")
            harness.receiver.respond(to: "/invalid", with: "<Response><Dial><Conference>  </Conference></Dial></Response>")
            harness.receiver.respond(
                to: "/stream", with: "<Response><Connect><Stream url=\"wss://example.com/s\"/></Connect></Response>")
            var ended: [String] = []
            for path in ["/hangup", "/broken", "/invalid"] {
                ended.append(try await placeCall(harness, path: path))
            }
            let streaming = try await placeCall(harness, path: "/stream")
            #expect(await SimulatorHarness.eventually { harness.simulator.twimlFetches().count == 4 })
            for sid in ended {
                var status: String?
                for _ in 0..<100 {
                    status = try await callStatus(harness, sid)
                    if status == "completed" { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(status == "completed")
            }
            #expect(try await callStatus(harness, streaming) == "in-progress")
            #expect(harness.simulator.twimlFetches().first { $0.url.hasSuffix("/broken") }?.responseStatus == 500)
            #expect(harness.simulator.conferences().isEmpty)
        }
    }

    @Test func twimlGivenAtCreationRunsWithoutAFetch() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let response = try await form(
                harness, "POST", accountURL(harness) + "/Calls.json",
                [
                    ("To", "+14155550100"), ("From", harness.twilio.numbers[0]),
                    ("Twiml", "<Response><Dial><Conference>inline</Conference></Dial></Response>"),
                ])
            let sid = try #require(response.json()?["sid"] as? String)
            #expect(await SimulatorHarness.eventually { presentCalls(conference(harness, named: "inline")) == [sid] })
            #expect(harness.simulator.twimlFetches().isEmpty)
        }
    }

    @Test func recordedCallReportsItsRecordingAfterItEnds() async throws {
        try await SimulatorHarness.run { harness in
            let callback = harness.receiver.url("/recording")
            let sid = try await placeCall(
                harness, path: "/empty",
                extra: [("Record", "true"), ("RecordingStatusCallback", callback), ("StatusCallback", harness.receiver.url("/status"))])
            let recording = try #require(await harness.receiver.wait(for: 1, at: "/recording").first)
            #expect(recording.method == "POST")
            #expect(
                IndependentVerifier.twilio(
                    token: harness.twilio.authToken, url: callback, parameters: recording.parameters,
                    signature: recording.headers["x-twilio-signature"] ?? ""))
            let recordingSID = try #require(recording.parameter("RecordingSid"))
            #expect(recordingSID.wholeMatch(of: /RE[0-9a-f]{32}/) != nil)
            #expect(recording.parameter("CallSid") == sid)
            #expect(recording.parameter("AccountSid") == harness.twilio.accountSID)
            #expect(
                recording.parameter("RecordingUrl")
                    == "https://api.twilio.com/2010-04-01/Accounts/\(harness.twilio.accountSID)/Recordings/\(recordingSID)")
            #expect(recording.parameter("RecordingStatus") == "completed")
            // Whole seconds of a ~1 s call; a loaded run stretches the simulated talk a little.
            #expect(recording.parameter("RecordingDuration").flatMap { Int($0) }.map { (1...5).contains($0) } == true)
            #expect(recording.parameter("RecordingChannels") == "1")
            #expect(recording.parameter("RecordingSource") == "OutboundAPI")
            #expect(recording.parameter("RecordingStartTime")?.hasSuffix("+0000") == true)
            // After the call's own completed callback.
            let status = try #require(harness.receiver.requests(at: "/status").first)
            let order = harness.receiver.requests().map(\.path)
            #expect(status.parameter("CallStatus") == "completed")
            #expect(order.firstIndex(of: "/status") ?? 99 < order.firstIndex(of: "/recording") ?? -1)

            // An unanswered call records nothing.
            _ = try await placeCall(
                harness, path: "/empty", to: "+14155550486", extra: [("Record", "true"), ("RecordingStatusCallback", callback)])
            _ = await harness.simulator.waitForWebhooks(count: 4, timeout: .seconds(1))
            #expect(harness.receiver.requests(at: "/recording").count == 1)
        }
    }

    @Test func applicationsAreReadAndUpdated() async throws {
        try await SimulatorHarness.run { harness in
            let application = try #require(harness.twilio.applications.first)
            #expect(application.sid.wholeMatch(of: /AP[0-9a-f]{32}/) != nil)
            #expect(application.voiceURL == nil)
            let url = accountURL(harness) + "/Applications/\(application.sid).json"
            let fetched = try await form(harness, "GET", url)
            #expect(fetched.status == 200)
            #expect(fetched.json()?["voice_url"] is NSNull)
            let updated = try await form(
                harness, "POST", url, [("VoiceUrl", harness.receiver.url("/voice")), ("VoiceMethod", "GET")])
            #expect(updated.status == 200)
            #expect(updated.json()?["voice_url"] as? String == harness.receiver.url("/voice"))
            #expect(updated.json()?["voice_method"] as? String == "GET")
            #expect(try await form(harness, "GET", url).json()?["voice_method"] as? String == "GET")
            // A call created with the ApplicationSid fetches the application's voice URL on answer.
            let placed = try await form(
                harness, "POST", accountURL(harness) + "/Calls.json",
                [("To", "+14155550100"), ("From", harness.twilio.numbers[0]), ("ApplicationSid", application.sid)])
            let sid = try #require(placed.json()?["sid"] as? String)
            let fetch = try #require(await harness.receiver.wait(for: 1, at: "/voice").first)
            #expect(fetch.method == "GET")
            #expect(fetch.parameter("ApplicationSid") == application.sid && fetch.parameter("CallSid") == sid)
            #expect(
                IndependentVerifier.twilio(
                    token: harness.twilio.authToken, url: fetch.url, parameters: [],
                    signature: fetch.headers["x-twilio-signature"] ?? ""))
            let invalid = try await form(harness, "POST", url, [("VoiceUrl", "not a url")])
            #expect(invalid.status == 400)
            let unknown = try await form(
                harness, "GET", accountURL(harness) + "/Applications/AP00000000000000000000000000000000.json")
            #expect(unknown.status == 404)
            #expect(unknown.json()?["code"] as? Int == 20404)
        }
    }
}
