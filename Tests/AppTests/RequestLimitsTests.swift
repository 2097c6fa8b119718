import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite struct RequestLimitsTests {
    @Test func aBodyOverOneMebibyteIs413OverALiveSocketAndStoresNothing() async throws {
        try await AppHarness.run(mode: .live) { harness, client in
            let padding = String(repeating: "x", count: (1 << 20) + 1)
            let response = try await client.send(
                .put, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION", key: harness.acmeAdmin,
                raw: #"{"account_sid":"\#(padding)"}"#)
            #expect(response.status == .contentTooLarge)
            #expect(try response.errorCode() == "payload_too_large")
            let get = try await client.send(
                .get, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION", key: harness.acmeAdmin)
            #expect(get.status == .notFound)
        }
    }

    @Test func aBodyJustUnderTheLimitIsRead() async throws {
        try await AppHarness.run(mode: .live) { harness, client in
            let padding = String(repeating: "x", count: (1 << 20) - 100)
            let response = try await client.send(
                .post, "/api/v1/organizations", key: harness.platformKey,
                raw: #"{"slug":"big","name":"\#(padding)"}"#)
            // Read and validated (the name is too long), not refused for size.
            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "invalid_field")
        }
    }
}
