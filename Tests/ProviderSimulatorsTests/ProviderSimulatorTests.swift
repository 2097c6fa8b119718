import Foundation
import ProviderSimulators
import Testing

@Suite struct ProviderSimulatorTests {
    private func placeTwilioCall(_ harness: SimulatorHarness, to: String, callback: String) async throws -> HTTPResult {
        try await harness.send(
            "POST", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/Calls.json",
            headers: [
                SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body: SimulatorHarness.form(
                [
                    ("To", to), ("From", harness.twilio.numbers[0]), ("Url", "https://example.com/twiml"),
                    ("StatusCallback", callback), ("StatusCallbackEvent", "initiated ringing answered completed"),
                ]))
    }

    @Test func signsTwilioOfficialVector() {
        let signature = WebhookSignatures.twilio(
            authToken: "12345", url: "https://mycompany.com/myapp.php?foo=1&bar=2",
            parameters: [
                ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
                ("From", "+14158675309"), ("To", "+18005551212"),
            ])
        #expect(signature == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    }

    @Test func signsPlivoV3Vector() {
        let signature = WebhookSignatures.plivoV3(
            authToken: "my_auth_token", method: "POST", url: "https://example.com/answer",
            parameters: [("To", "+15550001111"), ("From", "+15552223333"), ("CallUUID", "abc")], nonce: "12345")
        #expect(signature == "f5GUNR8kureweemtYtNfEskdG+r5mhvamni4LmG8xXM=")
    }

    @Test func recordsRequestsWithTheAnsweredStatus() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await placeTwilioCall(harness, to: "+14155550100", callback: harness.receiver.url("/s"))
            let recorded = try #require(harness.simulator.requests().last)
            #expect(recorded.provider == "twilio")
            #expect(recorded.method == "POST")
            #expect(recorded.status == 201)
            #expect(recorded.headers["authorization"]?.hasPrefix("Basic ") == true)
            #expect(recorded.formParameters.first { $0.0 == "To" }?.1 == "+14155550100")
        }
    }

    @Test func duplicatesEveryWebhookWhenAsked() async throws {
        var settings = SimulatorHarness.fast
        settings.duplicateEveryWebhook = true
        try await SimulatorHarness.run(settings: settings) { harness in
            _ = try await placeTwilioCall(harness, to: "+14155550100", callback: harness.receiver.url("/s"))
            let received = await harness.receiver.wait(for: 8)
            #expect(
                received.map { $0.parameter("CallStatus") } == [
                    "initiated", "initiated", "ringing", "ringing", "in-progress", "in-progress", "completed", "completed",
                ])
            // The simulator records a delivery once it has read the response, a moment after the receiver saw it.
            #expect(await harness.simulator.waitForWebhooks(count: 8, timeout: .seconds(20)).count == 8)
        }
    }

    @Test func shufflesACallsWebhooksWhenAsked() async throws {
        var settings = SimulatorHarness.fast
        settings.shuffleWebhooks = true
        settings.duplicateEveryWebhook = true
        try await SimulatorHarness.run(settings: settings) { harness in
            _ = try await placeTwilioCall(harness, to: "+14155550100", callback: harness.receiver.url("/s"))
            let received = await harness.receiver.wait(for: 8)
            let statuses = received.compactMap { $0.parameter("CallStatus") }
            #expect(statuses.sorted() == ["completed", "completed", "in-progress", "in-progress", "initiated", "initiated", "ringing", "ringing"])
        }
    }

    @Test func refusesToDeliverOutsideLoopback() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await placeTwilioCall(harness, to: "+14155550404", callback: "https://example.com/status")
            let webhooks = await harness.simulator.waitForWebhooks(count: 3, timeout: .seconds(20))
            #expect(webhooks.count == 3)
            #expect(webhooks.allSatisfy { $0.responseStatus == nil && $0.failure?.hasPrefix("refused") == true })
        }
    }

    @Test func recordsDeliveriesWithTheReceiverStatus() async throws {
        try await SimulatorHarness.run { harness in
            _ = try await placeTwilioCall(harness, to: "+14155550500", callback: harness.receiver.url("/s"))
            let webhooks = await harness.simulator.waitForWebhooks(count: 2, timeout: .seconds(20))
            #expect(webhooks.map(\.responseStatus) == [200, 200])
            #expect(webhooks.last?.formParameters.first { $0.0 == "CallStatus" }?.1 == "failed")
            #expect(webhooks.allSatisfy { $0.headers["x-twilio-signature"] != nil })
        }
    }

    @Test func shutdownStopsCallsInFlight() async throws {
        let slow = CallScenarioSettings(ringDelay: .seconds(120))
        try await SimulatorHarness.run(settings: slow) { harness in
            _ = try await placeTwilioCall(harness, to: "+14155550100", callback: harness.receiver.url("/s"))
            _ = await harness.receiver.wait(for: 1)
            let clock = ContinuousClock()
            let started = clock.now
            await harness.simulator.shutdown()
            // Far under the 120 s ring delay, with room for a loaded run.
            #expect(clock.now - started < .seconds(30))
            #expect(harness.receiver.requests().count == 1)
            await harness.simulator.shutdown()
        }
    }

    @Test func reportsAPortInUseInsteadOfHanging() async throws {
        try await SimulatorHarness.run { harness in
            let second = ProviderSimulator(accounts: harness.accounts, logger: .init(label: "second"))
            await #expect(throws: (any Error).self) {
                try await second.start(port: harness.simulator.port)
            }
            await second.shutdown()
        }
    }

    @Test func generatesAccountsInTheFormatsSwitchboardValidates() throws {
        let (accounts, privateKeys) = try sharedAccounts.get()
        let twilio = try #require(accounts.twilio.first)
        #expect(twilio.accountSID.wholeMatch(of: /AC[0-9a-f]{32}/) != nil)
        #expect(twilio.authToken.wholeMatch(of: /[0-9a-f]{32}/) != nil)
        #expect(accounts.telnyx.first?.connectionIDs.allSatisfy { $0.allSatisfy(\.isNumber) } == true)
        #expect(Data(base64Encoded: accounts.telnyx.first?.publicKeyBase64 ?? "")?.count == 32)
        let vonage = try #require(accounts.vonage.first)
        #expect(vonage.apiKey.wholeMatch(of: /[0-9a-f]{8}/) != nil)
        #expect(vonage.applicationID == vonage.applicationID.lowercased() && UUID(uuidString: vonage.applicationID) != nil)
        #expect(privateKeys.first?.hasPrefix("-----BEGIN PRIVATE KEY-----") == true)
        #expect(accounts.plivo.first?.authID.wholeMatch(of: /MA[A-Z0-9]{18}/) != nil)
        let numbers = accounts.twilio[0].numbers + accounts.telnyx[0].numbers + vonage.numbers + accounts.plivo[0].numbers
        #expect(numbers.allSatisfy { $0.wholeMatch(of: /\+1415555[0-9]{4}/) != nil })
    }
}
