import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

@Suite struct LegacyRedirectTests {
    @Test(arguments: [HTTPRequest.Method.get, .post, .delete])
    func legacyTwilioRoutesAnswer308ToTelephonyWithTheQueryKeptOverALiveSocket(_ method: HTTPRequest.Method) async throws {
        try await AppHarness.run(mode: .live) { harness, client in
            let response = try await client.send(
                method, "/api/v1/twilio/calls/abc/hangup?status=completed&cursor=x%20y", key: harness.acmeService,
                raw: method == .post ? "{}" : nil)
            #expect(response.status == .permanentRedirect)
            #expect(response.headers[.location] == "/api/v1/telephony/calls/abc/hangup?status=completed&cursor=x%20y")
        }
    }

    @Test func theLegacyRootRedirectsWithoutAKey() async throws {
        try await AppHarness.run(mode: .live) { _, client in
            let response = try await client.send(.get, "/api/v1/twilio")
            #expect(response.status == .permanentRedirect)
            #expect(response.headers[.location] == "/api/v1/telephony")
        }
    }

    @Test func aPathThatOnlyStartsLikeTheLegacyPrefixIsNotRedirected() async throws {
        try await AppHarness.run(mode: .live) { _, client in
            let response = try await client.send(.get, "/api/v1/twilioextra")
            #expect(response.status != .permanentRedirect)
        }
    }
}
