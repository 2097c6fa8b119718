import Foundation
import ProviderSimulators
import Testing

@Suite struct TelnyxSimulatorTests {
    private func headers(_ harness: SimulatorHarness, key: String? = nil) -> [(String, String)] {
        [("Authorization", "Bearer " + (key ?? harness.telnyx.apiKey)), ("Content-Type", "application/json")]
    }

    private func dial(
        _ harness: SimulatorHarness, _ overrides: [String: Any] = [:], removing: [String] = [], key: String? = nil
    ) async throws -> HTTPResult {
        var body: [String: Any] = [
            "connection_id": harness.telnyx.connectionIDs[0], "to": "+14155550100", "from": harness.telnyx.numbers[0],
            "webhook_url": harness.receiver.url("/telnyx/events"),
        ]
        body.merge(overrides) { _, new in new }
        for name in removing { body.removeValue(forKey: name) }
        return try await harness.send(
            "POST", "\(harness.urls.telnyx)/calls", headers: headers(harness, key: key),
            body: try SimulatorHarness.json(body))
    }

    private func firstError(_ response: HTTPResult) -> [String: Any]? {
        (response.json()?["errors"] as? [[String: Any]])?.first
    }

    @Test func acceptsDialWithDocumentedShape() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await dial(harness, ["client_state": Data("tenant-7".utf8).base64EncodedString()])
            #expect(response.status == 200)
            let data = try #require(response.json()?["data"] as? [String: Any])
            #expect((data["call_control_id"] as? String)?.hasPrefix("v3:") == true)
            #expect(UUID(uuidString: data["call_leg_id"] as? String ?? "") != nil)
            #expect(UUID(uuidString: data["call_session_id"] as? String ?? "") != nil)
            #expect(data["record_type"] as? String == "call")
            #expect(data["is_alive"] as? Bool == false)
            #expect(data["client_state"] as? String == Data("tenant-7".utf8).base64EncodedString())
        }
    }

    @Test func refusesBadKeyWithTelnyxError() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await dial(harness, key: "KEY_not_a_real_key")
            #expect(response.status == 401)
            let error = try #require(firstError(response))
            #expect(error["code"] as? String == "10009")
            #expect(error["title"] as? String == "Authentication failed")
            #expect(error["detail"] is String)
        }
    }

    @Test func refusesDialWithoutTo() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await dial(harness, removing: ["to"])
            #expect(response.status == 422)
            let error = try #require(firstError(response))
            #expect(error["code"] as? String == "10004")
            #expect((error["source"] as? [String: Any])?["pointer"] as? String == "/to")
        }
    }

    @Test func refusesClientStateThatIsNotBase64() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await dial(harness, ["client_state": "not base64!"])
            #expect(response.status == 422)
            #expect((firstError(response)?["source"] as? [String: Any])?["pointer"] as? String == "/client_state")
        }
    }

    @Test func refusesFromNumberNotOwnedAndUnknownConnection() async throws {
        try await SimulatorHarness.run { harness in
            let notOwned = try await dial(harness, ["from": "+12025550199"])
            #expect(notOwned.status == 403)
            #expect(firstError(notOwned)?["code"] is String)
            let unknownConnection = try await dial(harness, ["connection_id": "999"])
            #expect(unknownConnection.status == 422)
        }
    }

    @Test func reportsAnsweredCallWithValidSignatures() async throws {
        try await SimulatorHarness.run { harness in
            let state = Data("tenant-7".utf8).base64EncodedString()
            let response = try await dial(harness, ["client_state": state])
            let id = try #require((response.json()?["data"] as? [String: Any])?["call_control_id"] as? String)
            let received = await harness.receiver.wait(for: 3)
            let events = received.compactMap { $0.jsonObject()?["data"] as? [String: Any] }
            #expect(events.map { $0["event_type"] as? String } == ["call.initiated", "call.answered", "call.hangup"])
            for (webhook, event) in zip(received, events) {
                #expect(event["record_type"] as? String == "event")
                let payload = try #require(event["payload"] as? [String: Any])
                #expect(payload["call_control_id"] as? String == id)
                #expect(payload["client_state"] as? String == state)
                // Only call.initiated carries `direction` (telnyx-python `types/call_initiated.py`).
                #expect(payload["direction"] as? String == (event["event_type"] as? String == "call.initiated" ? "outgoing" : nil))
                #expect(
                    IndependentVerifier.telnyx(
                        publicKeyBase64: harness.telnyx.publicKeyBase64,
                        timestamp: webhook.headers["telnyx-timestamp"] ?? "", body: webhook.body,
                        signature: webhook.headers["telnyx-signature-ed25519"] ?? ""))
            }
            #expect((events.last?["payload"] as? [String: Any])?["hangup_cause"] as? String == "normal_clearing")
            #expect((received.first?.jsonObject()?["meta"] as? [String: Any])?["attempt"] as? Int == 1)
        }
    }

    @Test func reportsBusyCallAsUserBusyHangup() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await dial(harness, ["to": "+14155550486"])
            let received = await harness.receiver.wait(for: 2)
            let events = received.compactMap { $0.jsonObject()?["data"] as? [String: Any] }
            #expect(events.map { $0["event_type"] as? String } == ["call.initiated", "call.hangup"])
            #expect((events.last?["payload"] as? [String: Any])?["hangup_cause"] as? String == "user_busy")
        }
    }

    @Test func placesOneCallPerCommandID() async throws {
        try await SimulatorHarness.run { harness in
            let first = try await dial(harness, ["command_id": "dial-1"])
            let second = try await dial(harness, ["command_id": "dial-1"])
            let third = try await dial(harness, ["command_id": "dial-2"])
            let firstID = (first.json()?["data"] as? [String: Any])?["call_control_id"] as? String
            #expect(firstID != nil)
            #expect((second.json()?["data"] as? [String: Any])?["call_control_id"] as? String == firstID)
            #expect((third.json()?["data"] as? [String: Any])?["call_control_id"] as? String != firstID)
            _ = await harness.receiver.wait(for: 6)
            try await Task.sleep(for: .milliseconds(100))
            let initiated = harness.receiver.requests().filter {
                ($0.jsonObject()?["data"] as? [String: Any])?["event_type"] as? String == "call.initiated"
            }
            #expect(initiated.count == 2)
        }
    }

    @Test func hangsUpThenRefusesCommandsOnTheEndedCall() async throws {
        let slow = CallScenarioSettings(
            ringDelay: .milliseconds(10), answerDelay: .milliseconds(10), talkTime: .seconds(30))
        try await SimulatorHarness.run(settings: slow) { harness in
            let response = try await dial(harness)
            let id = try #require((response.json()?["data"] as? [String: Any])?["call_control_id"] as? String)
            _ = await harness.receiver.wait(for: 2)
            let path = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
            let hangup = try await harness.send(
                "POST", "\(harness.urls.telnyx)/calls/\(path)/actions/hangup", headers: headers(harness),
                body: Array("{}".utf8))
            #expect(hangup.status == 200)
            let again = try await harness.send(
                "POST", "\(harness.urls.telnyx)/calls/\(path)/actions/hangup", headers: headers(harness),
                body: Array("{}".utf8))
            #expect(again.status == 422)
            #expect(firstError(again)?["code"] as? String == "90018")
            let status = try await harness.send("GET", "\(harness.urls.telnyx)/calls/\(path)", headers: headers(harness))
            #expect((status.json()?["data"] as? [String: Any])?["is_alive"] as? Bool == false)
            let received = await harness.receiver.wait(for: 3)
            let hangupEvent = received.last?.jsonObject()?["data"] as? [String: Any]
            #expect(hangupEvent?["event_type"] as? String == "call.hangup")
            #expect((hangupEvent?["payload"] as? [String: Any])?["hangup_source"] as? String == "caller")

            let unknown = try await harness.send(
                "GET", "\(harness.urls.telnyx)/calls/v3:unknown", headers: headers(harness))
            #expect(unknown.status == 404)
        }
    }

    @Test func listsNumbersAndBalance() async throws {
        try await SimulatorHarness.run { harness in
            let numbers = try await harness.send("GET", "\(harness.urls.telnyx)/phone_numbers", headers: headers(harness))
            let data = try #require(numbers.json()?["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["phone_number"] as? String } == harness.telnyx.numbers)
            #expect(data.allSatisfy { $0["status"] as? String == "active" })
            #expect(numbers.json()?["meta"] is [String: Any])
            let balance = try await harness.send("GET", "\(harness.urls.telnyx)/balance", headers: headers(harness))
            #expect(balance.status == 200)
            #expect((balance.json()?["data"] as? [String: Any])?["currency"] as? String == "USD")
        }
    }
}
