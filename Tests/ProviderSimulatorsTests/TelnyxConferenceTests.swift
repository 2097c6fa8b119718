import Foundation
import ProviderSimulators
import Testing

/// Telnyx: Call Control conferences, recordings, telephony credentials and WebRTC legs.
@Suite struct TelnyxConferenceTests {
    private func headers(_ harness: SimulatorHarness) -> [(String, String)] {
        [("Authorization", "Bearer " + harness.telnyx.apiKey), ("Content-Type", "application/json")]
    }

    private func post(_ harness: SimulatorHarness, _ path: String, _ body: [String: Any] = [:]) async throws -> HTTPResult {
        try await harness.send(
            "POST", harness.urls.telnyx + path, headers: headers(harness), body: try SimulatorHarness.json(body))
    }

    private func get(_ harness: SimulatorHarness, _ path: String) async throws -> HTTPResult {
        try await harness.send("GET", harness.urls.telnyx + path, headers: headers(harness))
    }

    private func firstError(_ response: HTTPResult) -> [String: Any]? {
        (response.json()?["errors"] as? [[String: Any]])?.first
    }

    private static func encoded(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
    }

    /// Events delivered to `path`, as `(event_type, payload)`.
    private func events(_ harness: SimulatorHarness, at path: String) -> [(String, [String: Any])] {
        harness.receiver.requests(at: path).compactMap { request in
            guard let data = request.jsonObject()?["data"] as? [String: Any], let type = data["event_type"] as? String,
                let payload = data["payload"] as? [String: Any]
            else { return nil }
            return (type, payload)
        }
    }

    private func verified(_ harness: SimulatorHarness, at path: String) -> Bool {
        harness.receiver.requests(at: path).allSatisfy {
            IndependentVerifier.telnyx(
                publicKeyBase64: harness.telnyx.publicKeyBase64, timestamp: $0.headers["telnyx-timestamp"] ?? "",
                body: $0.body, signature: $0.headers["telnyx-signature-ed25519"] ?? "")
        }
    }

    /// Dials a call whose events go to the receiver's `path` and waits until it is answered.
    private func answeredCall(
        _ harness: SimulatorHarness, path: String, extra: [String: Any] = [:]
    ) async throws -> String {
        var body: [String: Any] = [
            "connection_id": harness.telnyx.connectionIDs[0], "to": "+14155550100", "from": harness.telnyx.numbers[0],
            "webhook_url": harness.receiver.url(path),
        ]
        body.merge(extra) { _, new in new }
        let response = try await post(harness, "/calls", body)
        let id = try #require((response.json()?["data"] as? [String: Any])?["call_control_id"] as? String)
        #expect(await SimulatorHarness.eventually { events(harness, at: path).contains { $0.0 == "call.answered" } })
        return id
    }

    private func createConference(_ harness: SimulatorHarness, call: String, name: String = "room-1") async throws
        -> [String: Any]
    {
        let response = try await post(harness, "/conferences", ["call_control_id": call, "name": name])
        #expect(response.status == 200, "\(response.bodyText)")
        return try #require(response.json()?["data"] as? [String: Any])
    }

    private func participants(_ harness: SimulatorHarness, _ conference: String) async throws -> [[String: Any]] {
        let response = try await get(harness, "/conferences/\(conference)/participants")
        #expect(response.json()?["meta"] is [String: Any])
        return try #require(response.json()?["data"] as? [[String: Any]])
    }

    @Test func createsAConferenceAroundAnAnsweredCallAndReportsIt() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let state = Data("agent-1".utf8).base64EncodedString()
            let call = try await answeredCall(harness, path: "/a", extra: ["client_state": state])
            let conference = try await createConference(harness, call: call)
            #expect(conference["record_type"] as? String == "conference")
            #expect(conference["name"] as? String == "room-1")
            #expect(conference["status"] as? String == "in_progress")
            #expect(conference["connection_id"] as? String == harness.telnyx.connectionIDs[0])
            #expect(conference["created_at"] is String && conference["expires_at"] is String)
            let id = try #require(conference["id"] as? String)
            #expect(UUID(uuidString: id) != nil)

            #expect(await SimulatorHarness.eventually { events(harness, at: "/a").count >= 4 })
            let received = events(harness, at: "/a")
            #expect(received.map(\.0) == ["call.initiated", "call.answered", "conference.created", "conference.participant.joined"])
            for request in harness.receiver.requests(at: "/a").suffix(2) {
                // Conference-created and participant events keep occurred_at in `data`, as call events do.
                #expect(FidelityTests.isMicrosecondTimestamp((request.jsonObject()?["data"] as? [String: Any])?["occurred_at"] as? String))
            }
            for (_, payload) in received.suffix(2) {
                #expect(payload["conference_id"] as? String == id)
                #expect(payload["call_control_id"] as? String == call)
                #expect(payload["client_state"] as? String == state)
                #expect(payload["connection_id"] as? String == harness.telnyx.connectionIDs[0])
                #expect(payload["call_leg_id"] is String && payload["call_session_id"] is String)
            }
            #expect(verified(harness, at: "/a"))

            let fetched = try await get(harness, "/conferences/\(id)")
            #expect((fetched.json()?["data"] as? [String: Any])?["id"] as? String == id)
            let listed = try await get(harness, "/conferences?filter%5Bname%5D=room-1")
            #expect((listed.json()?["data"] as? [[String: Any]])?.count == 1)
            let members = try await participants(harness, id)
            #expect(members.count == 1)
            #expect(members.first?["record_type"] as? String == "participant")
            #expect(members.first?["call_control_id"] as? String == call)
            #expect(members.first?["status"] as? String == "joined")
            #expect((members.first?["conference"] as? [String: Any])?["name"] as? String == "room-1")
        }
    }

    @Test func joinsMutesAndHoldsParticipantsWithoutWebhooks() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let first = try await answeredCall(harness, path: "/a")
            let second = try await answeredCall(harness, path: "/b")
            let id = try #require(try await createConference(harness, call: first)["id"] as? String)
            let state = Data("joined".utf8).base64EncodedString()
            let join = try await post(
                harness, "/conferences/\(id)/actions/join",
                ["call_control_id": second, "client_state": state, "end_conference_on_exit": false])
            #expect(join.status == 200)
            #expect((join.json()?["data"] as? [String: Any])?["result"] as? String == "ok")
            #expect(await SimulatorHarness.eventually { events(harness, at: "/b").contains { $0.0 == "conference.participant.joined" } })
            let joined = try #require(events(harness, at: "/b").last)
            #expect(joined.1["client_state"] as? String == state)
            #expect(joined.1["conference_id"] as? String == id)
            let again = try await post(harness, "/conferences/\(id)/actions/join", ["call_control_id": second])
            #expect(again.status == 422)

            let before = harness.receiver.requests().count
            func memberState(of call: String) async throws -> (muted: Bool?, held: Bool?) {
                let member = try await participants(harness, id).first { $0["call_control_id"] as? String == call }
                return (member?["muted"] as? Bool, member?["on_hold"] as? Bool)
            }
            #expect(try await post(harness, "/conferences/\(id)/actions/mute", [:]).status == 200)
            #expect(try await memberState(of: first) == (true, false))
            #expect(try await memberState(of: second) == (true, false))
            #expect(try await post(harness, "/conferences/\(id)/actions/unmute", ["call_control_ids": [second]]).status == 200)
            #expect(try await memberState(of: second) == (false, false))
            #expect(try await memberState(of: first) == (true, false))
            #expect(try await post(harness, "/conferences/\(id)/actions/hold", ["call_control_ids": [first]]).status == 200)
            #expect(try await memberState(of: first) == (true, true))
            #expect(try await post(harness, "/conferences/\(id)/actions/unhold", ["call_control_ids": [first]]).status == 200)
            #expect(try await memberState(of: first) == (true, false))
            let snapshot = try #require(harness.simulator.conferences().last)
            #expect(snapshot.participants.map(\.muted) == [true, false])
            // Telnyx documents no webhook for mute or hold.
            try await Task.sleep(for: .milliseconds(100))
            #expect(harness.receiver.requests().count == before)
        }
    }

    @Test func refusesInvalidConferenceCommands() async throws {
        let settings = CallScenarioSettings(ringDelay: .milliseconds(10), answerDelay: .seconds(30), talkTime: .seconds(60))
        try await SimulatorHarness.run(settings: settings) { harness in
            let missingName = try await post(harness, "/conferences", ["call_control_id": "v3:whatever"])
            #expect(missingName.status == 422)
            #expect(firstError(missingName)?["code"] as? String == "10004")
            #expect((firstError(missingName)?["source"] as? [String: Any])?["pointer"] as? String == "/name")
            let missingCall = try await post(harness, "/conferences", ["name": "x"])
            #expect(firstError(missingCall)?["code"] as? String == "10004")
            let unknownCall = try await post(harness, "/conferences", ["call_control_id": "v3:unknown", "name": "x"])
            #expect(unknownCall.status == 422)
            #expect(firstError(unknownCall)?["code"] as? String == "90015")

            // A call still ringing has not been answered.
            let dial = try await post(
                harness, "/calls",
                [
                    "connection_id": harness.telnyx.connectionIDs[0], "to": "+14155550100",
                    "from": harness.telnyx.numbers[0], "webhook_url": harness.receiver.url("/ringing"),
                ])
            let ringing = try #require((dial.json()?["data"] as? [String: Any])?["call_control_id"] as? String)
            let notAnswered = try await post(harness, "/conferences", ["call_control_id": ringing, "name": "x"])
            #expect(notAnswered.status == 422)
            #expect(firstError(notAnswered)?["code"] as? String == "90034")

            let unknown = try await post(harness, "/conferences/\(UUID().uuidString.lowercased())/actions/mute", [:])
            #expect(unknown.status == 404)
            #expect(firstError(unknown)?["code"] as? String == "10005")
            let unknownGet = try await get(harness, "/conferences/\(UUID().uuidString.lowercased())")
            #expect(unknownGet.status == 404)
            #expect(harness.simulator.conferences().isEmpty)
        }
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let call = try await answeredCall(harness, path: "/a")
            let id = try #require(try await createConference(harness, call: call)["id"] as? String)
            let unhold = try await post(harness, "/conferences/\(id)/actions/unhold", [:])
            #expect(unhold.status == 422)
            #expect(firstError(unhold)?["code"] as? String == "10004")
            let emptyUnhold = try await post(harness, "/conferences/\(id)/actions/unhold", ["call_control_ids": []])
            #expect(emptyUnhold.status == 422)
            let stranger = try await post(harness, "/conferences/\(id)/actions/mute", ["call_control_ids": ["v3:stranger"]])
            #expect(stranger.status == 422)
            let leaveStranger = try await post(harness, "/conferences/\(id)/actions/leave", ["call_control_id": "v3:stranger"])
            #expect(leaveStranger.status == 422)
            let leaveWithout = try await post(harness, "/conferences/\(id)/actions/leave", [:])
            #expect(firstError(leaveWithout)?["code"] as? String == "10004")
            let joinWithout = try await post(harness, "/conferences/\(id)/actions/join", [:])
            #expect(firstError(joinWithout)?["code"] as? String == "10004")
            let badState = try await post(
                harness, "/conferences/\(id)/actions/join", ["call_control_id": call, "client_state": "not base64!"])
            #expect(badState.status == 422)
            let other = try await post(harness, "/conferences", ["call_control_id": call, "name": "second"])
            #expect(other.status == 422)
        }
    }

    /// telnyx-python `resources/conferences/actions.py`: `end` — "End a conference and terminate all
    /// active participants". Every leg leaves, is hung up (its own `call.hangup`), then `conference.ended`.
    @Test func endingHangsUpEveryParticipantThenReportsTheEnd() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let first = try await answeredCall(harness, path: "/a")
            let second = try await answeredCall(harness, path: "/b")
            let id = try #require(try await createConference(harness, call: first)["id"] as? String)
            #expect(try await post(harness, "/conferences/\(id)/actions/join", ["call_control_id": second]).status == 200)
            let end = try await post(harness, "/conferences/\(id)/actions/end", [:])
            #expect(end.status == 200)
            // Webhooks of one moment are delivered concurrently (Telnyx promises no order), so a join
            // event may still arrive after them: wait for each, then compare sets.
            let creatorEnd: Set<String> = ["conference.participant.left", "call.hangup", "conference.ended"]
            let otherEnd: Set<String> = ["conference.participant.left", "call.hangup"]
            #expect(await SimulatorHarness.eventually { creatorEnd.isSubset(of: Set(events(harness, at: "/a").map(\.0))) })
            #expect(await SimulatorHarness.eventually { otherEnd.isSubset(of: Set(events(harness, at: "/b").map(\.0))) })
            #expect(events(harness, at: "/a").filter { creatorEnd.contains($0.0) }.count == 3)
            #expect(events(harness, at: "/b").filter { otherEnd.contains($0.0) }.count == 2)
            let ended = try #require(events(harness, at: "/a").first { $0.0 == "conference.ended" }?.1)
            // The published reasons (types/conference_ended.py) are all_left, host_left, time_exceeded.
            #expect(ended["reason"] as? String == "all_left")
            #expect(ended["conference_id"] as? String == id)
            #expect(ended["call_control_id"] as? String == first)
            let hangup = try #require(events(harness, at: "/b").first { $0.0 == "call.hangup" }?.1)
            #expect(hangup["hangup_cause"] as? String == "normal_clearing")
            #expect(verified(harness, at: "/a") && verified(harness, at: "/b"))

            for call in [first, second] {
                let status = try await get(harness, "/calls/\(Self.encoded(call))")
                #expect((status.json()?["data"] as? [String: Any])?["is_alive"] as? Bool == false)
            }
            let conference = try #require(try await get(harness, "/conferences/\(id)").json()?["data"] as? [String: Any])
            #expect(conference["status"] as? String == "completed")
            #expect(conference["end_reason"] as? String == "all_left")
            #expect(try await participants(harness, id).allSatisfy { $0["status"] as? String == "left" })
            let afterEnd = try await post(harness, "/conferences/\(id)/actions/mute", [:])
            #expect(afterEnd.status == 422)
        }
    }

    /// With `end_conference_on_exit: true` "all remaining participants [are] hung up" when that leg
    /// leaves (telnyx-python `resources/conferences/actions.py`, `join`); the conference ends host_left.
    @Test func aLeavingEnderHangsUpEveryoneElse() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let first = try await answeredCall(harness, path: "/a")
            let second = try await answeredCall(harness, path: "/b")
            let third = try await answeredCall(harness, path: "/c")
            let id = try #require(try await createConference(harness, call: first)["id"] as? String)
            #expect(
                try await post(
                    harness, "/conferences/\(id)/actions/join", ["call_control_id": second, "end_conference_on_exit": true]
                ).status == 200)
            #expect(try await post(harness, "/conferences/\(id)/actions/join", ["call_control_id": third]).status == 200)
            #expect(try await post(harness, "/calls/\(Self.encoded(second))/actions/hangup").status == 200)
            #expect(await SimulatorHarness.eventually { events(harness, at: "/a").contains { $0.0 == "conference.ended" } })
            #expect(await SimulatorHarness.eventually { events(harness, at: "/c").contains { $0.0 == "call.hangup" } })
            #expect(events(harness, at: "/a").first { $0.0 == "conference.ended" }?.1["reason"] as? String == "host_left")
            for call in [first, second, third] {
                let status = try await get(harness, "/calls/\(Self.encoded(call))")
                #expect((status.json()?["data"] as? [String: Any])?["is_alive"] as? Bool == false, "\(call)")
            }
            #expect(harness.simulator.conferences().last?.status == "completed")
        }
    }

    @Test func aHangupLeavesAndTheLastLeaverEndsTheConference() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let first = try await answeredCall(harness, path: "/a")
            let second = try await answeredCall(harness, path: "/b")
            let id = try #require(try await createConference(harness, call: first)["id"] as? String)
            #expect(try await post(harness, "/conferences/\(id)/actions/join", ["call_control_id": second]).status == 200)
            #expect(try await post(harness, "/calls/\(Self.encoded(second))/actions/hangup").status == 200)
            #expect(await SimulatorHarness.eventually { events(harness, at: "/b").contains { $0.0 == "conference.participant.left" } })
            #expect(harness.simulator.conferences().last?.status == "in_progress")
            #expect(try await post(harness, "/conferences/\(id)/actions/leave", ["call_control_id": first]).status == 200)
            #expect(await SimulatorHarness.eventually { events(harness, at: "/a").contains { $0.0 == "conference.ended" } })
            #expect(events(harness, at: "/a").last?.1["reason"] as? String == "all_left")
            #expect(harness.simulator.conferences().last?.status == "completed")
        }
    }

    @Test func aRecordedCallReportsItsRecordingAfterTheHangup() async throws {
        try await SimulatorHarness.run { harness in
            let state = Data("rec".utf8).base64EncodedString()
            let response = try await post(
                harness, "/calls",
                [
                    "connection_id": harness.telnyx.connectionIDs[0], "to": "+14155550100",
                    "from": harness.telnyx.numbers[0], "webhook_url": harness.receiver.url("/r"),
                    "record": "record-from-answer", "client_state": state,
                ])
            let id = try #require((response.json()?["data"] as? [String: Any])?["call_control_id"] as? String)
            #expect(await SimulatorHarness.eventually { events(harness, at: "/r").count == 4 })
            let received = events(harness, at: "/r")
            #expect(received.map(\.0) == ["call.initiated", "call.answered", "call.hangup", "call.recording.saved"])
            let recording = try #require(received.last?.1)
            // The published payload (types/call_recording_saved_webhook_event.py) names the leg, not the
            // call control id: correlation goes by call_leg_id / call_session_id / client_state.
            #expect(recording["call_control_id"] == nil)
            let answered = try #require(received.first { $0.0 == "call.answered" }?.1)
            #expect(answered["call_control_id"] as? String == id)
            #expect(recording["call_leg_id"] as? String == answered["call_leg_id"] as? String)
            #expect(recording["call_session_id"] as? String == answered["call_session_id"] as? String)
            #expect(recording["client_state"] as? String == state)
            #expect(recording["channels"] as? String == "single")
            #expect(recording["recording_started_at"] is String && recording["recording_ended_at"] is String)
            let urls = try #require(recording["recording_urls"] as? [String: Any])
            #expect((urls["mp3"] as? String)?.hasPrefix("https://") == true)
            #expect(urls["wav"] is NSNull)
            let publicURLs = try #require(recording["public_recording_urls"] as? [String: Any])
            #expect(publicURLs["mp3"] is NSNull && publicURLs["wav"] is NSNull)
            #expect(verified(harness, at: "/r"))

            // Busy: never answered, nothing recorded.
            _ = try await post(
                harness, "/calls",
                [
                    "connection_id": harness.telnyx.connectionIDs[0], "to": "+14155550486",
                    "from": harness.telnyx.numbers[0], "webhook_url": harness.receiver.url("/busy"),
                    "record": "record-from-answer",
                ])
            #expect(await SimulatorHarness.eventually { events(harness, at: "/busy").count == 2 })
            try await Task.sleep(for: .milliseconds(100))
            #expect(events(harness, at: "/busy").map(\.0) == ["call.initiated", "call.hangup"])
        }
    }

    @Test func aTelephonyCredentialLogsABrowserInWhoseCallIsAnsweredAndHungUp() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let connection = try #require(harness.telnyx.credentialConnectionIDs.first)
            let patch = try await harness.send(
                "PATCH", harness.urls.telnyx + "/credential_connections/\(connection)", headers: headers(harness),
                body: try SimulatorHarness.json(["webhook_event_url": harness.receiver.url("/webrtc")]))
            #expect(patch.status == 200)
            #expect((patch.json()?["data"] as? [String: Any])?["webhook_event_url"] as? String == harness.receiver.url("/webrtc"))

            let created = try await post(harness, "/telephony_credentials", ["connection_id": connection, "name": "agent-7"])
            #expect(created.status == 201)
            let credential = try #require(created.json()?["data"] as? [String: Any])
            let credentialID = try #require(credential["id"] as? String)
            #expect(credential["record_type"] as? String == "credential")
            #expect(credential["resource_id"] as? String == "connection:\(connection)")
            #expect((credential["sip_username"] as? String)?.hasPrefix("gencred") == true)
            #expect(credential["expired"] as? Bool == false)
            #expect(harness.simulator.telnyxCredentials().map(\.id) == [credentialID])
            let fetched = try await get(harness, "/telephony_credentials/\(credentialID)")
            #expect((fetched.json()?["data"] as? [String: Any])?["id"] as? String == credentialID)

            let tokenResponse = try await post(harness, "/telephony_credentials/\(credentialID)/token")
            #expect(tokenResponse.status == 201)
            #expect(tokenResponse.headers["content-type"]?.hasPrefix("text/plain") == true)
            let token = tokenResponse.bodyText
            #expect(token.split(separator: ".").count == 3)

            let state = Data("browser".utf8).base64EncodedString()
            let placed = try await harness.send(
                "POST", "http://127.0.0.1:\(harness.simulator.port)/telnyx/_sim/webrtc-calls",
                headers: [("Content-Type", "application/json")],
                body: try SimulatorHarness.json(
                    ["login_token": token, "destination_number": "+14155550100", "client_state": state]))
            #expect(placed.status == 201, "\(placed.bodyText)")
            let id = try #require(placed.json()?["call_control_id"] as? String)
            #expect(id.hasPrefix("v3:"))
            #expect(await SimulatorHarness.eventually { events(harness, at: "/webrtc").count == 1 })
            let initiated = try #require(events(harness, at: "/webrtc").first)
            #expect(initiated.0 == "call.initiated")
            #expect(initiated.1["direction"] as? String == "incoming")
            #expect(initiated.1["state"] as? String == "parked")
            #expect(initiated.1["client_state"] as? String == state)
            #expect(initiated.1["connection_id"] as? String == connection)
            #expect((initiated.1["from"] as? String)?.hasPrefix("sip:gencred") == true)
            #expect(initiated.1["to"] as? String == "+14155550100")

            let answerState = Data("answered".utf8).base64EncodedString()
            let answer = try await post(harness, "/calls/\(Self.encoded(id))/actions/answer", ["client_state": answerState])
            #expect(answer.status == 200)
            #expect(await SimulatorHarness.eventually { events(harness, at: "/webrtc").count == 2 })
            let answered = try #require(events(harness, at: "/webrtc").last)
            #expect(answered.0 == "call.answered")
            #expect(answered.1["client_state"] as? String == answerState)
            #expect(try await post(harness, "/calls/\(Self.encoded(id))/actions/answer").status == 422)

            let hangup = try await harness.send(
                "POST", "http://127.0.0.1:\(harness.simulator.port)/telnyx/_sim/webrtc-calls/\(Self.encoded(id))/hangup")
            #expect(hangup.status == 200)
            #expect(await SimulatorHarness.eventually { events(harness, at: "/webrtc").count == 3 })
            let ended = try #require(events(harness, at: "/webrtc").last)
            #expect(ended.0 == "call.hangup")
            #expect(ended.1["hangup_source"] as? String == "caller")
            #expect(ended.1["hangup_cause"] as? String == "normal_clearing")
            #expect(verified(harness, at: "/webrtc"))
        }
    }

    @Test func refusesBadLoginsAndCredentialRequests() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let connection = try #require(harness.telnyx.credentialConnectionIDs.first)
            let simCalls = "http://127.0.0.1:\(harness.simulator.port)/telnyx/_sim/webrtc-calls"
            func login(_ token: String) async throws -> HTTPResult {
                try await harness.send(
                    "POST", simCalls, headers: [("Content-Type", "application/json")],
                    body: try SimulatorHarness.json(["login_token": token]))
            }
            let forged = try await login(
                try IndependentVerifier.hs256JWT(secret: "guess", claims: ["sub": "x", "exp": Int(Date().timeIntervalSince1970) + 60]))
            #expect(forged.status == 401)
            #expect(firstError(forged)?["code"] as? String == "10009")
            #expect(try await login("garbage").status == 401)

            let expired = try await post(
                harness, "/telephony_credentials", ["connection_id": connection, "expires_at": "2020-01-01T00:00:00Z"])
            #expect(expired.status == 201)
            let expiredID = try #require((expired.json()?["data"] as? [String: Any])?["id"] as? String)
            #expect((expired.json()?["data"] as? [String: Any])?["expired"] as? Bool == true)
            let refusedToken = try await post(harness, "/telephony_credentials/\(expiredID)/token")
            #expect(refusedToken.status == 422)
            #expect(try await post(harness, "/telephony_credentials/\(UUID().uuidString.lowercased())/token").status == 404)
            #expect(try await get(harness, "/telephony_credentials/\(UUID().uuidString.lowercased())").status == 404)

            let wrongConnection = try await post(harness, "/telephony_credentials", ["connection_id": harness.telnyx.connectionIDs[0]])
            #expect(wrongConnection.status == 422)
            let noConnection = try await post(harness, "/telephony_credentials", ["name": "x"])
            #expect(firstError(noConnection)?["code"] as? String == "10004")
            let badDate = try await post(harness, "/telephony_credentials", ["connection_id": connection, "expires_at": "soon"])
            #expect(badDate.status == 422)

            let unknownConnection = try await harness.send(
                "PATCH", harness.urls.telnyx + "/credential_connections/123", headers: headers(harness),
                body: try SimulatorHarness.json(["webhook_event_url": harness.receiver.url("/x")]))
            #expect(unknownConnection.status == 404)
            let badURL = try await harness.send(
                "PATCH", harness.urls.telnyx + "/credential_connections/\(connection)", headers: headers(harness),
                body: try SimulatorHarness.json(["webhook_event_url": "nope"]))
            #expect(badURL.status == 422)

            // A valid token with client_state that is not base64.
            let credential = try await post(harness, "/telephony_credentials", ["connection_id": connection])
            let id = try #require((credential.json()?["data"] as? [String: Any])?["id"] as? String)
            let token = try await post(harness, "/telephony_credentials/\(id)/token").bodyText
            let badState = try await harness.send(
                "POST", simCalls, headers: [("Content-Type", "application/json")],
                body: try SimulatorHarness.json(["login_token": token, "client_state": "not base64!"]))
            #expect(badState.status == 422)
            #expect(harness.receiver.requests().isEmpty)
        }
    }

    /// telnyx-python `resources/telephony_credentials.py` `token()` posts no body with
    /// `Accept: text/plain` and reads text: the simulator refuses a client that accepts only JSON
    /// (406) and answers text to `text/plain`, `text/*` and `*/*`.
    @Test func theLoginTokenIsPlainTextOnlyAndHonoursAccept() async throws {
        try await SimulatorHarness.run { harness in
            let connection = try #require(harness.telnyx.credentialConnectionIDs.first)
            let created = try await post(harness, "/telephony_credentials", ["connection_id": connection, "name": "agent-8"])
            let credentialID = try #require((created.json()?["data"] as? [String: Any])?["id"] as? String)
            func token(accept: String) async throws -> HTTPResult {
                try await harness.send(
                    "POST", harness.urls.telnyx + "/telephony_credentials/\(credentialID)/token",
                    headers: [("Authorization", "Bearer " + harness.telnyx.apiKey), ("Accept", accept)])
            }
            let refused = try await token(accept: "application/json")
            #expect(refused.status == 406, "\(refused.bodyText)")
            #expect(refused.bodyText.contains("text/plain"))
            for accept in ["text/plain", "text/*", "*/*", "application/json, text/plain;q=0.5"] {
                let answered = try await token(accept: accept)
                #expect(answered.status == 201, "\(accept): \(answered.bodyText)")
                #expect(answered.headers["content-type"]?.hasPrefix("text/plain") == true, "\(accept)")
                #expect(answered.bodyText.split(separator: ".").count == 3, "\(accept)")
            }
        }
    }
}
