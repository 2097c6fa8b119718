import Foundation
import ProviderSimulators
import Testing

@Suite struct PlivoSimulatorTests {
    private func accountURL(_ harness: SimulatorHarness) -> String {
        "\(harness.urls.plivo)/Account/\(harness.plivo.authID)/"
    }

    private func auth(_ harness: SimulatorHarness) -> (String, String) {
        SimulatorHarness.basic(harness.plivo.authID, harness.plivo.authToken)
    }

    private func createCall(
        _ harness: SimulatorHarness, _ overrides: [String: Any] = [:], removing: [String] = [],
        credentials: (String, String)? = nil
    ) async throws -> HTTPResult {
        var body: [String: Any] = [
            "from": harness.plivo.numbers[0], "to": "14155550100",
            "answer_url": harness.receiver.url("/plivo/answer"),
            "ring_url": harness.receiver.url("/plivo/ring"),
            "hangup_url": harness.receiver.url("/plivo/hangup"),
        ]
        body.merge(overrides) { _, new in new }
        for name in removing { body.removeValue(forKey: name) }
        return try await harness.send(
            "POST", accountURL(harness) + "Call/",
            headers: [credentials ?? auth(harness), ("Content-Type", "application/json")],
            body: try SimulatorHarness.json(body))
    }

    @Test func acceptsCallWithDocumentedShape() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness)
            #expect(response.status == 201)
            let body = try #require(response.json())
            #expect(body["message"] as? String == "call fired")
            #expect(UUID(uuidString: body["api_id"] as? String ?? "") != nil)
            #expect(UUID(uuidString: body["request_uuid"] as? String ?? "") != nil)
        }
    }

    @Test func refusesBadCredentialsWithPlivoError() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(
                harness, credentials: SimulatorHarness.basic(harness.plivo.authID, "wrong-token"))
            #expect(response.status == 401)
            #expect(response.json()?["api_id"] is String)
            #expect(response.json()?["error"] is String)
        }
    }

    @Test func refusesCallWithoutAnswerURL() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness, removing: ["answer_url"])
            #expect(response.status == 400)
            #expect((response.json()?["error"] as? String)?.contains("answer_url") == true)
        }
    }

    @Test func refusesFromNumberNotOwned() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness, ["from": "12025550199"])
            #expect(response.status == 400)
            #expect(response.json()?["error"] is String)
        }
    }

    @Test func reportsAnsweredCallToEachURLWithValidSignatures() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness)
            let requestUUID = try #require(response.json()?["request_uuid"] as? String)
            let received = await harness.receiver.wait(for: 3)
            #expect(received.map(\.path) == ["/plivo/ring", "/plivo/answer", "/plivo/hangup"])
            #expect(received.map { $0.parameter("Event") } == ["Ring", "StartApp", "Hangup"])
            #expect(received.map { $0.parameter("CallStatus") } == ["ringing", "in-progress", "completed"])
            // plivo-python documents CallUUID (and ALegUUID / ALegRequestUUID) on callbacks; the call's
            // UUID is not the request UUID the create answered with.
            let callUUID = try #require(received.first?.parameter("CallUUID"))
            #expect(callUUID != requestUUID)
            for webhook in received {
                #expect(webhook.parameter("RequestUUID") == requestUUID)
                #expect(webhook.parameter("CallUUID") == callUUID)
                // The ring_url parameter list has no ALegUUID.
                #expect(webhook.parameter("ALegUUID") == (webhook.parameter("Event") == "Ring" ? nil : callUUID))
                #expect(webhook.parameter("ALegRequestUUID") == requestUUID)
                #expect(webhook.parameter("Direction") == "outbound")
                let nonce = webhook.headers["x-plivo-signature-v3-nonce"] ?? ""
                #expect(
                    IndependentVerifier.plivoV3(
                        token: harness.plivo.authToken, url: webhook.url, parameters: webhook.parameters, nonce: nonce,
                        signature: webhook.headers["x-plivo-signature-v3"] ?? ""))
                #expect(
                    IndependentVerifier.plivoV2(
                        token: harness.plivo.authToken, urlWithoutQuery: webhook.urlWithoutQuery,
                        nonce: webhook.headers["x-plivo-signature-v2-nonce"] ?? "",
                        signature: webhook.headers["x-plivo-signature-v2"] ?? ""))
            }
            #expect(received.last?.parameter("HangupCause") == "NORMAL_CLEARING")
            #expect(received.last?.parameter("Duration") != nil)

            // GET Call/{call_uuid}/ is the ended call's record; the request UUID names no call.
            let fetched = try await harness.send(
                "GET", accountURL(harness) + "Call/\(callUUID)/", headers: [auth(harness)])
            #expect(fetched.status == 200)
            #expect(fetched.json()?["call_uuid"] as? String == callUUID)
            #expect(fetched.json()?["call_state"] as? String == "ANSWER")
            let byRequest = try await harness.send(
                "GET", accountURL(harness) + "Call/\(requestUUID)/", headers: [auth(harness)])
            #expect(byRequest.status == 404)
        }
    }

    @Test func reportsBusyCallToTheHangupURL() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await createCall(harness, ["to": "14155550486"])
            let received = await harness.receiver.wait(for: 2)
            #expect(received.map(\.path) == ["/plivo/ring", "/plivo/hangup"])
            #expect(received.last?.parameter("CallStatus") == "busy")
        }
    }

    @Test func sendsTheHangupToTheAnswerURLWithoutAHangupURL() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await createCall(harness, removing: ["ring_url", "hangup_url"])
            let received = await harness.receiver.wait(for: 2)
            #expect(received.map(\.path) == ["/plivo/answer", "/plivo/answer"])
            #expect(received.map { $0.parameter("Event") } == ["StartApp", "Hangup"])
        }
    }

    @Test func hangsUpWithDelete() async throws {
        let slow = CallScenarioSettings(
            ringDelay: .milliseconds(10), answerDelay: .milliseconds(10), talkTime: .seconds(30))
        try await SimulatorHarness.run(settings: slow) { harness in
            let requestUUID = try #require(try await createCall(harness).json()?["request_uuid"] as? String)
            let answered = await harness.receiver.wait(for: 2)
            let uuid = try #require(answered.last?.parameter("CallUUID"))
            // A live call is found with ?status=live; hanging up by the request UUID is not a call.
            let live = try await harness.send("GET", accountURL(harness) + "Call/\(uuid)/?status=live", headers: [auth(harness)])
            #expect(live.status == 200)
            #expect(live.json()?["call_uuid"] as? String == uuid)
            let byRequest = try await harness.send(
                "DELETE", accountURL(harness) + "Call/\(requestUUID)/", headers: [auth(harness)])
            #expect(byRequest.status == 404)
            let hangup = try await harness.send("DELETE", accountURL(harness) + "Call/\(uuid)/", headers: [auth(harness)])
            #expect(hangup.status == 204)
            let received = await harness.receiver.wait(for: 3)
            #expect(received.last?.parameter("Event") == "Hangup")
            let again = try await harness.send("DELETE", accountURL(harness) + "Call/\(uuid)/", headers: [auth(harness)])
            #expect(again.status == 404)
            let gone = try await harness.send("GET", accountURL(harness) + "Call/\(uuid)/?status=live", headers: [auth(harness)])
            #expect(gone.status == 404)
        }
    }

    @Test func listsNumbersAndAccount() async throws {
        try await SimulatorHarness.run { harness in
            let numbers = try await harness.send("GET", accountURL(harness) + "Number/", headers: [auth(harness)])
            #expect(numbers.status == 200)
            let objects = try #require(numbers.json()?["objects"] as? [[String: Any]])
            #expect(objects.compactMap { $0["number"] as? String } == harness.plivo.numbers.map { String($0.dropFirst()) })
            #expect((numbers.json()?["meta"] as? [String: Any])?["total_count"] as? Int == harness.plivo.numbers.count)
            let account = try await harness.send("GET", accountURL(harness), headers: [auth(harness)])
            #expect(account.json()?["auth_id"] as? String == harness.plivo.authID)
            let noSlash = try await harness.send(
                "GET", "\(harness.urls.plivo)/Account/\(harness.plivo.authID)", headers: [auth(harness)])
            #expect(noSlash.status == 404)
        }
    }
}
