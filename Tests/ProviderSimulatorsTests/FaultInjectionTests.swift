import AsyncHTTPClient
import Foundation
import ProviderSimulators
import Synchronization
import Testing

/// `CallScenarioSettings.apiFault` and the `/_sim/settings` route that switches it on a running simulator.
@Suite struct FaultInjectionTests {
    private func twilioCalls(_ harness: SimulatorHarness) -> String {
        "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/Calls.json"
    }

    private func auth(_ harness: SimulatorHarness) -> (String, String) {
        SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
    }

    private func setFault(_ harness: SimulatorHarness, _ fault: String) async throws -> HTTPResult {
        try await harness.send(
            "POST", harness.urls.settings, headers: [("Content-Type", "application/json")],
            body: try SimulatorHarness.json(["api_fault": fault]))
    }

    @Test func serverErrorsComeInEachProvidersShapeAndSpareTheSimulatorRoutes() async throws {
        try await SimulatorHarness.run { harness in
            harness.simulator.update(settings: .init(apiFault: .serverError))
            let twilio = try await harness.send("GET", twilioCalls(harness), headers: [auth(harness)])
            #expect(twilio.status == 500)
            #expect(twilio.json()?["code"] as? Int == 20500)
            #expect(twilio.json()?["status"] as? Int == 500)
            let telnyx = try await harness.send(
                "GET", harness.urls.telnyx + "/balance", headers: [("Authorization", "Bearer " + harness.telnyx.apiKey)])
            #expect(telnyx.status == 500)
            #expect(((telnyx.json()?["errors"] as? [[String: Any]])?.first)?["code"] as? String == "10007")
            let plivo = try await harness.send("GET", harness.urls.plivo + "/Account/\(harness.plivo.authID)/")
            #expect(plivo.status == 500)
            #expect(plivo.json()?["error"] is String)
            let vonage = try await harness.send("GET", harness.urls.vonage + "/v1/calls")
            #expect(vonage.status == 500)
            #expect(vonage.json()?["title"] is String)

            let settings = try await harness.send("GET", harness.urls.settings)
            #expect(settings.status == 200)
            #expect(settings.json()?["api_fault"] as? String == "server_error")
            #expect(try await setFault(harness, "none").json()?["api_fault"] as? String == "none")
            let healthy = try await harness.send("GET", twilioCalls(harness), headers: [auth(harness)])
            #expect(healthy.status == 200)
            #expect(harness.simulator.requests().contains { $0.provider == "simulator" && $0.path == "/_sim/settings" })

            let invalid = try await setFault(harness, "flaky")
            #expect(invalid.status == 400)
        }
    }

    @Test func aStallHoldsRequestsUntilTheFaultIsCleared() async throws {
        try await SimulatorHarness.run { harness in
            #expect(try await setFault(harness, "stall").status == 200)
            // A client that gives up sees no answer at all.
            var request = HTTPClientRequest(url: twilioCalls(harness))
            request.headers.add(name: "Authorization", value: auth(harness).1)
            await #expect(throws: (any Error).self) {
                _ = try await HTTPClient.shared.execute(request, timeout: .milliseconds(300))
            }
            // A patient client gets its answer once the fault is cleared.
            let finished = Mutex<Int?>(nil)
            let waiting = Task {
                let response = try await harness.send("GET", twilioCalls(harness), headers: [auth(harness)])
                finished.withLock { $0 = response.status }
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(finished.withLock { $0 } == nil)
            // The simulator's own routes still answer while the APIs stall.
            #expect(try await setFault(harness, "none").status == 200)
            try await waiting.value
            #expect(finished.withLock { $0 } == 200)
        }
    }

    @Test func aStallDoesNotHoldUpShutdown() async throws {
        try await SimulatorHarness.run(settings: .init(apiFault: .stall)) { harness in
            let stalled = Task {
                try? await harness.send("GET", twilioCalls(harness), headers: [auth(harness)])
            }
            try await Task.sleep(for: .milliseconds(200))
            let clock = ContinuousClock()
            let started = clock.now
            await harness.simulator.shutdown()
            // Shutdown cancels open requests after 3 s; a hang would take the client's whole timeout.
            #expect(clock.now - started < .seconds(6))
            let response = await stalled.value
            #expect(response == nil || response?.status == 503)
        }
    }
}
