import Foundation
import ProviderSimulators
import Testing

@Suite struct TwilioSimulatorTests {
    private func callsURL(_ harness: SimulatorHarness) -> String {
        "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/Calls.json"
    }

    private func auth(_ harness: SimulatorHarness) -> (String, String) {
        SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
    }

    private func placeCall(
        _ harness: SimulatorHarness, to: String = "+14155550100", extra: [(String, String)] = [],
        credentials: (String, String)? = nil
    ) async throws -> HTTPResult {
        try await harness.send(
            "POST", callsURL(harness),
            headers: [
                credentials ?? auth(harness), ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body: SimulatorHarness.form(
                [("To", to), ("From", harness.twilio.numbers[0]), ("Url", "https://example.com/twiml")] + extra))
    }

    @Test func acceptsCallWithDocumentedShape() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await placeCall(harness)
            #expect(response.status == 201)
            let call = try #require(response.json())
            let sid = try #require(call["sid"] as? String)
            #expect(sid.count == 34 && sid.hasPrefix("CA"))
            #expect(call["account_sid"] as? String == harness.twilio.accountSID)
            #expect(call["to"] as? String == "+14155550100")
            #expect(call["from"] as? String == harness.twilio.numbers[0])
            #expect(call["status"] as? String == "queued")
            #expect(call["direction"] as? String == "outbound-api")
            #expect(call["api_version"] as? String == "2010-04-01")
            #expect(call["uri"] as? String == "/2010-04-01/Accounts/\(harness.twilio.accountSID)/Calls/\(sid).json")
            #expect((call["date_created"] as? String)?.hasSuffix("+0000") == true)

            let fetched = try await harness.send(
                "GET", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/Calls/\(sid).json",
                headers: [auth(harness)])
            #expect(fetched.status == 200)
            #expect(fetched.json()?["sid"] as? String == sid)
        }
    }

    @Test func acceptsAPIKeyWithAccountInPath() async throws {
        try await SimulatorHarness.run { harness in
            let key = harness.twilio.apiKeys[0]
            let response = try await placeCall(harness, credentials: SimulatorHarness.basic(key.sid, key.secret))
            #expect(response.status == 201)
        }
    }

    @Test func refusesBadCredentialsWithTwilioError() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await placeCall(
                harness, credentials: SimulatorHarness.basic(harness.twilio.accountSID, "0123456789abcdef0123456789abcdef"))
            #expect(response.status == 401)
            let error = try #require(response.json())
            #expect(error["code"] as? Int == 20003)
            #expect(error["status"] as? Int == 401)
            #expect(error["message"] is String)
            #expect(error["more_info"] as? String == "https://www.twilio.com/docs/errors/20003")

            let account = try await harness.send(
                "GET", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID).json")
            #expect(account.status == 401)
        }
    }

    @Test func refusesCallWithoutTo() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await harness.send(
                "POST", callsURL(harness),
                headers: [auth(harness), ("Content-Type", "application/x-www-form-urlencoded")],
                body: SimulatorHarness.form([("From", harness.twilio.numbers[0]), ("Url", "https://example.com/x")]))
            #expect(response.status == 400)
            #expect(response.json()?["code"] as? Int == 21201)
        }
    }

    @Test func refusesCallWithoutInstructions() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await harness.send(
                "POST", callsURL(harness),
                headers: [auth(harness), ("Content-Type", "application/x-www-form-urlencoded")],
                body: SimulatorHarness.form([("To", "+14155550100"), ("From", harness.twilio.numbers[0])]))
            #expect(response.status == 400)
            #expect(response.json()?["code"] as? Int == 21205)
        }
    }

    @Test func refusesJSONBodyAsMissingParameters() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await harness.send(
                "POST", callsURL(harness), headers: [auth(harness), ("Content-Type", "application/json")],
                body: try SimulatorHarness.json(["To": "+14155550100", "From": harness.twilio.numbers[0]]))
            #expect(response.status == 400)
            #expect(response.json()?["code"] as? Int == 21201)
        }
    }

    @Test func refusesFromNumberNotOwned() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await harness.send(
                "POST", callsURL(harness),
                headers: [auth(harness), ("Content-Type", "application/x-www-form-urlencoded")],
                body: SimulatorHarness.form(
                    [("To", "+14155550100"), ("From", "+12025550199"), ("Url", "https://example.com/x")]))
            #expect(response.status == 400)
            #expect(response.json()?["code"] as? Int == 21210)
        }
    }

    @Test func reportsAnsweredCallInOrderWithValidSignatures() async throws {
        try await SimulatorHarness.run { harness in
            let callback = harness.receiver.url("/twilio/status?tenant=7")
            let response = try await placeCall(
                harness,
                extra: [
                    ("StatusCallback", callback), ("StatusCallbackEvent", "initiated"),
                    ("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "answered"),
                    ("StatusCallbackEvent", "completed"),
                ])
            let sid = try #require(response.json()?["sid"] as? String)
            let received = await harness.receiver.wait(for: 4)
            #expect(received.map { $0.parameter("CallStatus") } == ["initiated", "ringing", "in-progress", "completed"])
            #expect(received.map { $0.parameter("SequenceNumber") } == ["0", "1", "2", "3"])
            for webhook in received {
                #expect(webhook.method == "POST")
                #expect(webhook.parameter("CallSid") == sid)
                #expect(webhook.parameter("AccountSid") == harness.twilio.accountSID)
                #expect(webhook.parameter("Direction") == "outbound-api")
                #expect(webhook.parameter("ApiVersion") == "2010-04-01")
                #expect(
                    IndependentVerifier.twilio(
                        token: harness.twilio.authToken, url: callback, parameters: webhook.parameters,
                        signature: webhook.headers["x-twilio-signature"] ?? ""))
            }
            #expect(received.last?.parameter("CallDuration") != nil)

            let fetched = try await harness.send(
                "GET", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/Calls/\(sid).json",
                headers: [auth(harness)])
            #expect(fetched.json()?["status"] as? String == "completed")
        }
    }

    @Test func reportsBusyCallOnlyAtCompletionByDefault() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await placeCall(
                harness, to: "+14155550486", extra: [("StatusCallback", harness.receiver.url("/twilio/status"))])
            let received = await harness.receiver.wait(for: 1)
            try await Task.sleep(for: .milliseconds(100))
            #expect(harness.receiver.requests().count == 1)
            #expect(received.first?.parameter("CallStatus") == "busy")
        }
    }

    @Test func sendsGETCallbackSignedOverTheFullURL() async throws {
        try await SimulatorHarness.run { harness in
            let callback = harness.receiver.url("/twilio/status")
            _ = try await placeCall(
                harness, to: "+14155550404",
                extra: [("StatusCallback", callback), ("StatusCallbackMethod", "GET")])
            let webhook = try #require(await harness.receiver.wait(for: 1).first)
            #expect(webhook.method == "GET")
            #expect(webhook.parameter("CallStatus") == "no-answer")
            #expect(
                IndependentVerifier.twilio(
                    token: harness.twilio.authToken, url: webhook.url, parameters: [],
                    signature: webhook.headers["x-twilio-signature"] ?? ""))
        }
    }

    @Test func hangsUpThroughTheAPI() async throws {
        let slow = CallScenarioSettings(
            ringDelay: .milliseconds(10), answerDelay: .milliseconds(10), talkTime: .seconds(30))
        try await SimulatorHarness.run(settings: slow) { harness in
            let response = try await placeCall(
                harness,
                extra: [
                    ("StatusCallback", harness.receiver.url("/s")), ("StatusCallbackEvent", "answered"),
                    ("StatusCallbackEvent", "completed"),
                ])
            let sid = try #require(response.json()?["sid"] as? String)
            _ = await harness.receiver.wait(for: 1)
            let hangup = try await harness.send(
                "POST", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/Calls/\(sid).json",
                headers: [auth(harness), ("Content-Type", "application/x-www-form-urlencoded")],
                body: SimulatorHarness.form([("Status", "completed")]))
            #expect(hangup.status == 200)
            #expect(hangup.json()?["status"] as? String == "completed")
            let received = await harness.receiver.wait(for: 2)
            #expect(received.map { $0.parameter("CallStatus") } == ["in-progress", "completed"])
        }
    }

    @Test func answersUnknownCallWith20404() async throws {
        try await SimulatorHarness.run { harness in
            let response = try await harness.send(
                "GET",
                "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/Calls/CA00000000000000000000000000000000.json",
                headers: [auth(harness)])
            #expect(response.status == 404)
            #expect(response.json()?["code"] as? Int == 20404)
        }
    }

    @Test func listsNumbersAndAccount() async throws {
        try await SimulatorHarness.run { harness in
            let numbers = try await harness.send(
                "GET", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/IncomingPhoneNumbers.json",
                headers: [auth(harness)])
            #expect(numbers.status == 200)
            let items = try #require(numbers.json()?["incoming_phone_numbers"] as? [[String: Any]])
            #expect(items.compactMap { $0["phone_number"] as? String } == harness.twilio.numbers)
            #expect(items.allSatisfy { ($0["sid"] as? String)?.hasPrefix("PN") == true })
            #expect((items.first?["capabilities"] as? [String: Any])?["voice"] as? Bool == true)

            let account = try await harness.send(
                "GET", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID).json", headers: [auth(harness)])
            #expect(account.status == 200)
            #expect(account.json()?["sid"] as? String == harness.twilio.accountSID)
            #expect(account.json()?["status"] as? String == "active")
        }
    }
}
