import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

/// NUL (U+0000) cannot be stored in PostgreSQL text: every route refuses it with a 400 naming
/// where it was, before the database sees it (found by the schemathesis fuzz run as 500s).
@Suite struct NULInputTests {
    @Test func nulInABodyFieldIsA400NamingTheField() async throws {
        try await AppHarness.run { harness, client in
            let cases: [(HTTPRequest.Method, String, String, String)] = [
                (.post, "/api/v1/organizations", harness.platformKey, #"{"slug":"nul-org","name":"a\u0000b"}"#),
                (.post, "/api/v1/organizations/acme/api-keys", harness.acmeAdmin, #"{"name":"a\u0000b","role":"service"}"#),
                (
                    .post, "/api/v1/cold-call/calls/00000000-0000-0000-0000-000000000000/outcome", harness.acmeService,
                    #"{"outcome":"other","notes":"a\u0000b"}"#
                ),
                (.post, "/api/v1/telephony/initiate-call", harness.acmeService, #"{"to_number":"+14155550123","workflow_id":"w\u0000"}"#),
                (.post, "/api/v1/organizations", harness.platformKey, #"{"slug":"nul-org","name":"ok","x\u0000":1}"#),
            ]
            for (method, path, key, body) in cases {
                let response = try await client.send(method, path, key: key, raw: body)
                #expect(response.status == .badRequest, "\(path): \(response.text)")
                #expect(try response.errorCode() == "invalid_field" || response.errorCode() == "unknown_field")
            }
            let rows = try await harness.postgres.query(
                "SELECT count(*) FROM organizations WHERE slug = 'nul-org'", logger: TestDatabase.logger)
            for try await count in rows.decode(Int.self) { #expect(count == 0) }
        }
    }

    @Test func nulInTheURLIsA400() async throws {
        try await AppHarness.run { harness, client in
            for path in ["/api/v1/organizations?cursor=a%00b", "/api/v1/contacts?search=a%00", "/api/v1/organizations/a%00b"] {
                let response = try await client.send(.get, path, key: harness.platformKey)
                #expect(response.status == .badRequest, "\(path): \(response.text)")
                #expect(try response.errorCode() == "invalid_query")
            }
        }
    }
}
