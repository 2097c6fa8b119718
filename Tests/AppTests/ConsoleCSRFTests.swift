import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

@Suite struct ConsoleCSRFTests {
    @Test func aForgedOrMissingCSRFTokenIsRefusedAndChangesNothing() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            try await browser.get("/console/api-keys", on: client)
            let before = try await harness.dependencies.keys.list(organizationID: harness.acme.id, logger: TestDatabase.logger)
            let forged = try await browser.post(
                "/console/api-keys", ["name": "forged", "role": "admin"], on: client, csrf: String(repeating: "A", count: 43))
            #expect(forged.status == .forbidden)
            let missing = try await browser.post("/console/api-keys", ["name": "forged", "role": "admin", "_csrf": ""], on: client)
            #expect(missing.status == .forbidden)
            // Another session's token is no better than a forged one.
            try await ConsoleUsers.create(harness, email: "eve@acme.test", role: .admin)
            var eve = ConsoleBrowser()
            try await eve.signIn("eve@acme.test", ConsoleUsers.password, on: client)
            try await eve.get("/console/api-keys", on: client)
            try await browser.get("/console/api-keys", on: client)
            #expect(
                try await browser.post("/console/api-keys", ["name": "forged", "role": "admin"], on: client, csrf: eve.csrf).status
                    == .forbidden)
            let after = try await harness.dependencies.keys.list(organizationID: harness.acme.id, logger: TestDatabase.logger)
            #expect(after.count == before.count)
            // The page's own token works, in the form or in the X-CSRF-Token header.
            try await browser.get("/console/api-keys", on: client)
            #expect(try await browser.post("/console/api-keys", ["name": "real", "role": "service"], on: client).status == .ok)
            let headers: HTTPFields = [
                .contentType: "application/x-www-form-urlencoded", .cookie: browser.cookieHeader!, .csrfToken: browser.csrf!,
            ]
            let viaHeader = try await client.execute(
                uri: "/console/api-keys", method: .post, headers: headers, body: ByteBuffer(string: "name=header&role=service"))
            #expect(viaHeader.status == .ok)
        }
    }

    @Test func signInWithoutTheFormCookieIsRefused() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.get("/console/sign-in", on: client)
            let token = try #require(browser.csrf)
            var attacker = ConsoleBrowser()  // a cross-site form: the token may be guessed, the cookie is not sent
            let response = try await attacker.post(
                "/console/sign-in", ["email": "ada@acme.test", "password": ConsoleUsers.password], on: client, csrf: token)
            #expect(response.status == .forbidden)
            #expect(attacker.cookies["switchboard_session"] == nil)
        }
    }
}
