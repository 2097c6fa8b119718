import Foundation
import ProviderSimulators
import Testing
import _CryptoExtras

@Suite struct VonageSimulatorTests {
    private func token(_ harness: SimulatorHarness) throws -> String {
        try IndependentVerifier.vonageApplicationJWT(
            privateKeyPEM: harness.vonagePrivateKeyPEM, applicationID: harness.vonage.applicationID)
    }

    private func createCall(
        _ harness: SimulatorHarness, _ overrides: [String: Any] = [:], removing: [String] = [], token: String? = nil
    ) async throws -> HTTPResult {
        var body: [String: Any] = [
            "to": [["type": "phone", "number": "14155550100"]],
            "from": ["type": "phone", "number": String(harness.vonage.numbers[0].dropFirst())],
            "ncco": [["action": "talk", "text": "Hello from Switchboard"]],
            "event_url": [harness.receiver.url("/vonage/events")],
        ]
        body.merge(overrides) { _, new in new }
        for name in removing { body.removeValue(forKey: name) }
        return try await harness.send(
            "POST", "\(harness.urls.vonage)/v1/calls",
            headers: [("Authorization", "Bearer " + (try token ?? self.token(harness))), ("Content-Type", "application/json")],
            body: try SimulatorHarness.json(body))
    }

    private func expectProblem(_ response: HTTPResult, status: Int) {
        #expect(response.status == status)
        let problem = response.json()
        #expect(problem?["type"] is String)
        #expect(problem?["title"] is String)
        #expect(problem?["detail"] is String)
        #expect(problem?["instance"] is String)
    }

    @Test func acceptsCallWithDocumentedShape() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness)
            #expect(response.status == 201)
            let call = try #require(response.json())
            #expect(UUID(uuidString: call["uuid"] as? String ?? "") != nil)
            #expect(call["status"] as? String == "started")
            #expect(call["direction"] as? String == "outbound")
            #expect((call["conversation_uuid"] as? String)?.hasPrefix("CON-") == true)
        }
    }

    @Test func refusesMissingOrMalformedJWT() async throws {
        try await SimulatorHarness.run { harness in
            let missing = try await harness.send(
                "POST", "\(harness.urls.vonage)/v1/calls", headers: [("Content-Type", "application/json")],
                body: Array("{}".utf8))
            expectProblem(missing, status: 401)
            #expect(missing.json()?["title"] as? String == "Unauthorized")
            let expired = try IndependentVerifier.vonageApplicationJWT(
                privateKeyPEM: harness.vonagePrivateKeyPEM, applicationID: harness.vonage.applicationID,
                issuedAt: Date(timeIntervalSinceNow: -3600), expiresIn: 60)
            expectProblem(try await createCall(harness, token: expired), status: 401)
        }
    }

    @Test func refusesJWTSignedByAnotherKey() async throws {
        try await SimulatorHarness.run { harness in
            let otherKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let forged = try IndependentVerifier.vonageApplicationJWT(
                privateKeyPEM: otherKey.pemRepresentation, applicationID: harness.vonage.applicationID)
            expectProblem(try await createCall(harness, token: forged), status: 401)
            // The public key is public: a token MACed with it must not pass for an RS256 signature.
            let confused = try IndependentVerifier.hs256JWT(
                secret: harness.vonage.applicationPublicKeyPEM,
                claims: [
                    "application_id": harness.vonage.applicationID, "iat": Int(Date().timeIntervalSince1970),
                    "jti": UUID().uuidString,
                ])
            expectProblem(try await createCall(harness, token: confused), status: 401)
        }
    }

    @Test func refusesCallWithoutNccoOrAnswerURL() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness, removing: ["ncco"])
            expectProblem(response, status: 400)
            let invalid = response.json()?["invalid_parameters"] as? [[String: Any]]
            #expect(invalid?.first?["name"] as? String == "ncco")
        }
    }

    @Test func refusesNumbersWithPlusSign() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness, ["to": [["type": "phone", "number": "+14155550100"]]])
            expectProblem(response, status: 400)
        }
    }

    @Test func refusesFromNumberNotOwned() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness, ["from": ["type": "phone", "number": "12025550199"]])
            expectProblem(response, status: 403)
        }
    }

    @Test func reportsAnsweredCallWithSignedEvents() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await createCall(harness)
            let uuid = try #require(response.json()?["uuid"] as? String)
            let received = await harness.receiver.wait(for: 4)
            let events = received.compactMap { $0.jsonObject() }
            #expect(events.map { $0["status"] as? String } == ["started", "ringing", "answered", "completed"])
            for (webhook, event) in zip(received, events) {
                #expect(event["uuid"] as? String == uuid)
                #expect(event["direction"] as? String == "outbound")
                let claims = IndependentVerifier.vonage(
                    authorization: webhook.headers["authorization"], secret: harness.vonage.signatureSecret,
                    body: webhook.body)
                #expect(claims?["iss"] as? String == "Vonage")
                #expect(claims?["application_id"] as? String == harness.vonage.applicationID)
                #expect(claims?["api_key"] as? String == harness.vonage.apiKey)
                #expect(claims?["jti"] is String)
                #expect(claims?["iat"] is Int)
            }
            #expect(events.last?["duration"] is String)

            let fetched = try await harness.send(
                "GET", "\(harness.urls.vonage)/v1/calls/\(uuid)", headers: [("Authorization", "Bearer " + token(harness))])
            #expect(fetched.json()?["status"] as? String == "completed")
            #expect((fetched.json()?["to"] as? [String: Any])?["number"] as? String == "14155550100")
        }
    }

    @Test func reportsBusyCall() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await createCall(harness, ["to": [["type": "phone", "number": "14155550486"]]])
            let received = await harness.receiver.wait(for: 3)
            #expect(received.map { $0.jsonObject()?["status"] as? String } == ["started", "ringing", "busy"])
        }
    }

    @Test func hangsUpWithPut() async throws {
        let slow = CallScenarioSettings(
            ringDelay: .milliseconds(10), answerDelay: .milliseconds(10), talkTime: .seconds(30))
        try await SimulatorHarness.run(settings: slow) { harness in
            let uuid = try #require(try await createCall(harness).json()?["uuid"] as? String)
            _ = await harness.receiver.wait(for: 3)
            let authorization = ("Authorization", "Bearer " + (try token(harness)))
            let hangup = try await harness.send(
                "PUT", "\(harness.urls.vonage)/v1/calls/\(uuid)",
                headers: [authorization, ("Content-Type", "application/json")],
                body: try SimulatorHarness.json(["action": "hangup"]))
            #expect(hangup.status == 204)
            let received = await harness.receiver.wait(for: 4)
            #expect(received.last?.jsonObject()?["status"] as? String == "completed")
            let again = try await harness.send(
                "PUT", "\(harness.urls.vonage)/v1/calls/\(uuid)",
                headers: [authorization, ("Content-Type", "application/json")],
                body: try SimulatorHarness.json(["action": "hangup"]))
            #expect(again.status == 400)
        }
    }

    @Test func servesAccountNumbersAndBalance() async throws {
        try await SimulatorHarness.run { harness in
            let credentials = "api_key=\(harness.vonage.apiKey)&api_secret=\(harness.vonage.apiSecret)"
            let numbers = try await harness.send("GET", "\(harness.urls.vonageRest)/account/numbers?\(credentials)")
            #expect(numbers.status == 200)
            #expect(numbers.json()?["count"] as? Int == harness.vonage.numbers.count)
            let msisdns = (numbers.json()?["numbers"] as? [[String: Any]])?.compactMap { $0["msisdn"] as? String }
            #expect(msisdns == harness.vonage.numbers.map { String($0.dropFirst()) })
            let balance = try await harness.send("GET", "\(harness.urls.vonageRest)/account/get-balance?\(credentials)")
            #expect(balance.json()?["value"] as? Double == 10.5)
            #expect(balance.json()?["autoReload"] as? Bool == false)
            let refused = try await harness.send(
                "GET", "\(harness.urls.vonageRest)/account/get-balance?api_key=\(harness.vonage.apiKey)&api_secret=wrong")
            #expect(refused.status == 401)
        }
    }
}
