import Foundation
import ProviderSimulators
import Testing

/// The Voice JS SDK's side, through the simulator-only `/twilio/_sim/client-calls` routes.
@Suite struct TwilioClientCallTests {
    private func auth(_ harness: SimulatorHarness) -> (String, String) {
        SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
    }

    private func accountURL(_ harness: SimulatorHarness) -> String {
        "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)"
    }

    private func simURL(_ harness: SimulatorHarness, _ path: String) -> String {
        "http://127.0.0.1:\(harness.simulator.port)/twilio/_sim/client-calls" + path
    }

    /// Points the account's application at the receiver's `/voice`.
    private func configureApplication(_ harness: SimulatorHarness, method: String = "POST") async throws -> String {
        let application = try #require(harness.twilio.applications.first)
        let response = try await harness.send(
            "POST", accountURL(harness) + "/Applications/\(application.sid).json",
            headers: [auth(harness), ("Content-Type", "application/x-www-form-urlencoded")],
            body: SimulatorHarness.form([("VoiceUrl", harness.receiver.url("/voice")), ("VoiceMethod", method)]))
        #expect(response.status == 200)
        return application.sid
    }

    private func token(
        _ harness: SimulatorHarness, applicationSID: String, secret: String? = nil, issuedAt: Date = Date(),
        ttl: TimeInterval = 3600, contentType: String = "twilio-fpa;v=1", params: [String: String] = [:]
    ) throws -> String {
        let key = try #require(harness.twilio.apiKeys.first)
        return try IndependentVerifier.twilioAccessToken(
            accountSID: harness.twilio.accountSID, keySID: key.sid, secret: secret ?? key.secret, identity: "alice",
            applicationSID: applicationSID, params: params, issuedAt: issuedAt, ttl: ttl, contentType: contentType)
    }

    private func connect(_ harness: SimulatorHarness, token: String, params: [String: String]) async throws -> HTTPResult {
        try await harness.send(
            "POST", simURL(harness, ""), headers: [("Content-Type", "application/json")],
            body: try SimulatorHarness.json(["access_token": token, "params": params]))
    }

    @Test func aBrowserCallFetchesTheApplicationsVoiceURLAndJoinsTheConference() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let applicationSID = try await configureApplication(harness)
            harness.receiver.respond(
                to: "/voice",
                with: """
                    <Response><Dial><Conference statusCallback="\(harness.receiver.url("/events"))" \
                    statusCallbackEvent="join leave end">agent-7</Conference></Dial></Response>
                    """)
            let token = try token(harness, applicationSID: applicationSID, params: ["tenant": "acme", "room": "grant-room"])
            let response = try await connect(
                harness, token: token, params: ["To": "+14155550100", "room": "request-room", "extra": "x"])
            #expect(response.status == 201, "\(response.bodyText)")
            let sid = try #require(response.json()?["call_sid"] as? String)
            #expect(sid.wholeMatch(of: /CA[0-9a-f]{32}/) != nil)

            let fetch = try #require(await harness.receiver.wait(for: 1, at: "/voice").first)
            #expect(fetch.method == "POST")
            #expect(
                IndependentVerifier.twilio(
                    token: harness.twilio.authToken, url: harness.receiver.url("/voice"), parameters: fetch.parameters,
                    signature: fetch.headers["x-twilio-signature"] ?? ""))
            let expected: [String: String] = [
                "AccountSid": harness.twilio.accountSID, "ApiVersion": "2010-04-01", "ApplicationSid": applicationSID,
                "CallSid": sid, "CallStatus": "ringing", "Direction": "inbound", "From": "client:alice",
                "Caller": "client:alice", "To": "+14155550100", "tenant": "acme", "room": "grant-room", "extra": "x",
            ]
            for (name, value) in expected { #expect(fetch.parameter(name) == value, "\(name)") }
            // A request parameter never replaces a grant parameter of the same name.
            #expect(fetch.parameters.filter { $0.0 == "room" }.count == 1)

            #expect(
                await SimulatorHarness.eventually {
                    harness.simulator.conferences().last?.participants.map(\.callID) == [sid]
                })
            let call = try await harness.send("GET", accountURL(harness) + "/Calls/\(sid).json", headers: [auth(harness)])
            #expect(call.json()?["direction"] as? String == "inbound")
            #expect(call.json()?["from"] as? String == "client:alice")
            #expect(call.json()?["status"] as? String == "in-progress")

            // The browser hangs up: the leg completes and leaves; being the last, the conference ends.
            let hangup = try await harness.send("POST", simURL(harness, "/\(sid)/hangup"))
            #expect(hangup.status == 200)
            let events = await harness.receiver.wait(for: 3, at: "/events")
            #expect(events.map { $0.parameter("StatusCallbackEvent") } == ["participant-join", "participant-leave", "conference-end"])
            #expect(events.last?.parameter("ReasonConferenceEnded") == "last-participant-left")
            let ended = try await harness.send("GET", accountURL(harness) + "/Calls/\(sid).json", headers: [auth(harness)])
            #expect(ended.json()?["status"] as? String == "completed")

            let unknown = try await harness.send("POST", simURL(harness, "/CA00000000000000000000000000000000/hangup"))
            #expect(unknown.status == 404)
        }
    }

    @Test func theRESTAPIHangsUpABrowserLegAndGETVoiceURLsAreSignedOverTheQuery() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let applicationSID = try await configureApplication(harness, method: "GET")
            let response = try await connect(harness, token: try token(harness, applicationSID: applicationSID), params: [:])
            let sid = try #require(response.json()?["call_sid"] as? String)
            let fetch = try #require(await harness.receiver.wait(for: 1, at: "/voice").first)
            #expect(fetch.method == "GET")
            #expect(fetch.parameter("To") == "")
            #expect(
                IndependentVerifier.twilio(
                    token: harness.twilio.authToken, url: fetch.url, parameters: [],
                    signature: fetch.headers["x-twilio-signature"] ?? ""))
            let hangup = try await harness.send(
                "POST", accountURL(harness) + "/Calls/\(sid).json",
                headers: [auth(harness), ("Content-Type", "application/x-www-form-urlencoded")],
                body: SimulatorHarness.form([("Status", "completed")]))
            #expect(hangup.json()?["status"] as? String == "completed")
        }
    }

    @Test func refusesTokensTwilioWouldRefuse() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let application = try #require(harness.twilio.applications.first)
            // The application has no voice URL yet.
            let noVoiceURL = try await connect(harness, token: try token(harness, applicationSID: application.sid), params: [:])
            #expect(noVoiceURL.status == 401)
            #expect(noVoiceURL.json()?["code"] as? Int == 20106)

            let applicationSID = try await configureApplication(harness)
            let cases: [(String, Int)] = [
                (try token(harness, applicationSID: applicationSID, secret: "not-the-secret"), 20107),
                (try token(harness, applicationSID: applicationSID, issuedAt: Date().addingTimeInterval(-7200)), 20104),
                (try token(harness, applicationSID: applicationSID, contentType: "application/json"), 20101),
                (try token(harness, applicationSID: "AP00000000000000000000000000000000"), 20106),
                (try token(harness, applicationSID: applicationSID, ttl: 90_000), 20104),
                ("not.a.token", 20101),
            ]
            for (token, code) in cases {
                let response = try await connect(harness, token: token, params: ["To": "+14155550100"])
                #expect(response.status == 401)
                #expect(response.json()?["code"] as? Int == code, "\(response.bodyText)")
                #expect(response.json()?["message"] is String)
            }
            let calls = try await harness.send("GET", accountURL(harness) + "/Calls.json", headers: [auth(harness)])
            #expect((calls.json()?["calls"] as? [Any])?.isEmpty == true)
            #expect(harness.receiver.requests(at: "/voice").isEmpty)
        }
    }
}
