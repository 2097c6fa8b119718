import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

@Suite struct ConsolePagesTests {
    @Test func templatesParseAndStaticFilesShip() throws {
        let renderer = try ConsoleRenderer.load()
        for name in ["top", "bottom", "sign-in", "set-password", "error", "confirm", "overview", "api-keys", "users", "user-role", "dialer"] {
            #expect(renderer.library.getTemplate(named: name) != nil, "\(name).mustache")
        }
        #expect(ConsoleRenderer.bundled != nil)
        for file in ConsoleStaticController.files.keys {
            #expect((ConsoleStaticController.bundled[file]?.readableBytes ?? 0) > 100, "\(file)")
        }
    }

    static func expectSecurityHeaders(_ response: TestResponse, _ what: String) {
        let csp = response.headers[.contentSecurityPolicy] ?? ""
        #expect(csp.contains("default-src 'self'"), "\(what): \(csp)")
        #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "\(what): \(csp)")
        #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(what)")
        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(what)")
    }

    @Test func everyKindOfConsoleResponseCarriesTheSecurityHeaders() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "bob@acme.test", role: .agent)
            var browser = ConsoleBrowser()
            Self.expectSecurityHeaders(try await browser.get("/console/sign-in", on: client), "sign-in page")
            Self.expectSecurityHeaders(try await browser.get("/console/overview", on: client), "redirect to sign-in")
            Self.expectSecurityHeaders(try await browser.get("/console/no-such-page", on: client), "404")
            Self.expectSecurityHeaders(try await browser.get("/console/static/console.css", on: client), "stylesheet")
            let signIn = try await browser.signIn("bob@acme.test", ConsoleUsers.password, on: client)
            Self.expectSecurityHeaders(signIn, "sign-in redirect")
            let forbidden = try await browser.get("/console/users", on: client)
            #expect(forbidden.status == .forbidden)
            Self.expectSecurityHeaders(forbidden, "403")
            // The API is not the console: no console headers there.
            let api = try await client.send(.get, "/api/v1/organizations/acme", key: harness.acmeAdmin)
            #expect(api.headers[.contentSecurityPolicy] == nil)
        }
    }

    @Test func theScriptSourcesAreSelfPlusTheConfiguredSDKOriginsOnly() async throws {
        var configuration = AppConfiguration()
        configuration.twilioSDKURL = "https://sdk.example.com/twilio/twilio.min.js"
        configuration.telnyxSDKURL = "https://cdn.example.net:8443/telnyx/bundle.js"
        try await AppHarness.runConsole(configuration: configuration) { _, client in
            var browser = ConsoleBrowser()
            let csp = try #require(try await browser.get("/console/sign-in", on: client).headers[.contentSecurityPolicy])
            let scripts = try #require(csp.split(separator: ";").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("script-src") })
            #expect(scripts.trimmingCharacters(in: .whitespaces) == "script-src 'self' https://sdk.example.com https://cdn.example.net:8443")
            #expect(csp.contains("connect-src 'self' https://eventgw.twilio.com wss://voice-js.roaming.twilio.com wss://rtc.telnyx.com"))
        }
    }

    @Test func anInvitationLinkSetsThePasswordOnceAndExpiresAfter24Hours() async throws {
        let clock = TestClock()
        try await AppHarness.runConsole(clock: clock) { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var ada = ConsoleBrowser()
            try await ada.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            try await ada.get("/console/users", on: client)
            let invited = try await ada.post("/console/users", ["email": "Bob@Acme.test", "name": "Bob", "role": "agent"], on: client)
            #expect(invited.status == .ok)
            let link = try #require(Self.invitationPath(in: invited.text))
            let token = String(link.split(separator: "=").last!)
            var bob = ConsoleBrowser()
            #expect(try await bob.get(link, on: client).status == .ok)
            let mismatch = try await bob.post(
                "/console/set-password", ["token": token, "new_password": "a long password", "confirm_password": "another one!"],
                on: client)
            #expect(mismatch.status == .unprocessableContent)
            let set = try await bob.post(
                "/console/set-password", ["token": token, "new_password": "bobs new password", "confirm_password": "bobs new password"],
                on: client)
            #expect(set.status == .ok)
            #expect(set.text.contains("Your password is set"))
            #expect(try await bob.signIn("bob@acme.test", "bobs new password", on: client).location == "/console/dialer")
            // Used up.
            var replay = ConsoleBrowser()
            #expect(try await replay.get(link, on: client).status == .notFound)
            try await replay.get("/console/sign-in", on: client)  // a form cookie, so only the link is wrong
            #expect(
                try await replay.post(
                    "/console/set-password", ["token": token, "new_password": "takeover attempt", "confirm_password": "takeover attempt"],
                    on: client
                ).status == .notFound)
            // Another invitation, unused for a day: expired.
            try await ada.get("/console/users", on: client)
            let second = try await ada.post("/console/users", ["email": "cy@acme.test", "name": "", "role": "agent"], on: client)
            let secondLink = try #require(Self.invitationPath(in: second.text))
            clock.advance(24 * 3600 + 1)
            var cy = ConsoleBrowser()
            #expect(try await cy.get(secondLink, on: client).status == .notFound)
            // The link's token is stored as its SHA-256 only.
            let secondToken = String(secondLink.split(separator: "=").last!)
            let digest = Data(SHA256.hash(data: Data(secondToken.utf8)))
            let rows = try await harness.postgres.query(
                "SELECT count(*) FROM user_invitations WHERE token_hash = \(digest)", logger: TestDatabase.logger)
            for try await count in rows.decode(Int.self) { #expect(count == 1) }
        }
    }

    static func invitationPath(in html: String) -> String? {
        guard let range = html.range(of: #"/console/set-password\?token=[A-Za-z0-9]{43}"#, options: .regularExpression) else { return nil }
        return String(html[range])
    }

    @Test func consoleActionsAreAuditedAsTheUserWithIdAndEmail() async throws {
        try await AppHarness.runConsole { harness, client in
            let ada = try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            try await browser.get("/console/api-keys", on: client)
            let created = try await browser.post("/console/api-keys", ["name": "billing", "role": "service"], on: client)
            #expect(created.status == .ok)
            #expect(created.text.contains("shown only this once"))
            let key = try #require(
                try await harness.dependencies.keys.list(organizationID: harness.acme.id, logger: TestDatabase.logger)
                    .first { $0.name == "billing" })
            // The key works and is shown in full only in the creation answer.
            let value = try #require(created.text.range(of: "sb_\(key.prefix)_[A-Za-z0-9]{40}", options: .regularExpression))
            #expect(try await client.send(.get, "/api/v1/contacts", key: String(created.text[value])).status == .ok)
            #expect(!(try await browser.get("/console/api-keys", on: client).text.contains(String(created.text[value]))))
            try await browser.get("/console/api-keys/\(key.id.lowercasedString)/revoke", on: client)
            let revoked = try await browser.post("/console/api-keys/\(key.id.lowercasedString)/revoke", [:], on: client)
            #expect(revoked.status == .seeOther)
            #expect(try await client.send(.get, "/api/v1/contacts", key: String(created.text[value])).status == .unauthorized)
            let events = try await harness.dependencies.audit.list(
                organizationID: harness.acme.id, before: nil, limit: 10, logger: TestDatabase.logger)
            for action in ["api_key.create", "api_key.revoke"] {
                let event = try #require(events.first { $0.action == action })
                #expect(event.actorType == .user)
                #expect(event.actorUserID == ada.id)
                #expect(event.actorEmail == "ada@acme.test")
                #expect(event.actorKeyID == nil)
            }
            // The API shows who acted.
            let api = try await client.send(.get, "/api/v1/organizations/acme/audit-events", key: harness.acmeAdmin)
            #expect(api.text.contains(#""actor_type":"user""#) && api.text.contains(#""actor_email":"ada@acme.test""#))
        }
    }

    @Test func pagesEscapeWhatUsersTyped() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            try await browser.get("/console/users", on: client)
            let page = try await browser.post(
                "/console/users", ["email": "x@acme.test", "name": "<script>alert(1)</script>", "role": "agent"], on: client)
            #expect(page.status == .ok)
            #expect(!page.text.contains("<script>alert(1)</script>"))
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        }
    }

    @Test func disablingTheLastAdminIsRefused() async throws {
        try await AppHarness.runConsole { harness, client in
            let ada = try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            try await ConsoleUsers.create(harness, email: "bob@acme.test", role: .agent)
            await #expect(throws: PersistenceError.self) {
                try await harness.dependencies.users.changeRole(
                    organizationID: harness.acme.id, id: ada.id, role: .agent, actor: .commandLine, logger: TestDatabase.logger)
            }
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            try await browser.get("/console/users", on: client)
            let own = try await browser.post("/console/users/\(ada.id.lowercasedString)/disable", [:], on: client)
            #expect(own.status == .conflict)
        }
    }
}

@Suite struct PasswordHasherTests {
    /// The issue asks for a cost that takes at least 50 ms here.
    @Test func aHashAtTheDefaultCostTakesAtLeast50Milliseconds() async throws {
        let hasher = PasswordHasher()
        _ = try await hasher.hash("warm up the pool")
        let start = ContinuousClock.now
        let hash = try await hasher.hash("correct horse battery")
        let elapsed = ContinuousClock.now - start
        print("bcrypt cost \(PasswordHasher.defaultCost): \(elapsed.milliseconds) ms")
        #expect(elapsed >= .milliseconds(50))
        #expect(hash.hasPrefix("$2b$\(PasswordHasher.defaultCost)$"))
        #expect(try await hasher.verify("correct horse battery", hash: hash))
        #expect(try await !hasher.verify("correct horse batterY", hash: hash))
    }

    @Test func passwordsLongerThanBcryptReadsAreRefusedNotTruncated() {
        let long = String(repeating: "a", count: 73)
        #expect(PasswordHasher.problem(with: long, confirmation: long) != nil)
        #expect(PasswordHasher.problem(with: "short", confirmation: "short") != nil)
        #expect(PasswordHasher.problem(with: "long enough pw", confirmation: "long enough pw") == nil)
    }
}
