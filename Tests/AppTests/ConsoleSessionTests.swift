import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

@Suite struct ConsoleSessionTests {
    @Test func signInOverHTTPSSetsAHostPrefixedSecureHttpOnlyLaxCookie() async throws {
        var configuration = AppConfiguration()
        configuration.publicURL = "https://switchboard.example.com"
        try await AppHarness.runConsole(configuration: configuration) { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            let response = try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            #expect(response.status == .seeOther)
            #expect(response.location == "/console/overview")
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("__Host-switchboard_session=") })
            let attributes = Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
            #expect(attributes.isSuperset(of: ["httponly", "secure", "samesite=lax", "path=/"]))
            #expect(!attributes.contains { $0.hasPrefix("domain") })
            #expect(try await browser.get("/console/overview", on: client).status == .ok)
        }
    }

    @Test func signInOverHTTPSetsAPlainCookieWithoutSecure() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            let response = try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("switchboard_session=") })
            #expect(!cookie.lowercased().contains("secure"))
            #expect(cookie.lowercased().contains("httponly") && cookie.lowercased().contains("samesite=lax"))
        }
    }

    @Test func theSessionIDRotatesAtSignInAndTheOldSessionEnds() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            let first = try #require(browser.cookies["switchboard_session"])
            // Signing in again from the same browser (the old session cookie sent along) gets a new id.
            let response = try await browser.post(
                "/console/sign-in", ["email": "ada@acme.test", "password": ConsoleUsers.password], on: client,
                csrf: browser.cookies["switchboard_form"])
            #expect(response.status == .seeOther)
            let second = try #require(browser.cookies["switchboard_session"])
            #expect(second != first)
            var old = ConsoleBrowser()
            old.cookies["switchboard_session"] = first
            let replay = try await old.get("/console/overview", on: client)
            #expect(replay.status == .seeOther)
            #expect(replay.location?.hasPrefix("/console/sign-in") == true)
            #expect(try await browser.get("/console/overview", on: client).status == .ok)
        }
    }

    @Test func aSessionUnusedForTwelveHoursHasEnded() async throws {
        let clock = TestClock()
        try await AppHarness.runConsole(clock: clock) { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            clock.advance(11 * 3600)
            #expect(try await browser.get("/console/overview", on: client).status == .ok)
            clock.advance(11 * 3600)  // 11 h after the last use: still fine
            #expect(try await browser.get("/console/overview", on: client).status == .ok)
            clock.advance(12 * 3600 + 1)
            let response = try await browser.get("/console/overview", on: client)
            #expect(response.status == .seeOther)
            #expect(response.location == "/console/sign-in?from=/console/overview")
        }
    }

    @Test func aSessionEndsSevenDaysAfterSignInHoweverBusy() async throws {
        let clock = TestClock()
        try await AppHarness.runConsole(clock: clock) { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            for _ in 0..<15 {  // used every 11 hours: 165 h < 168 h
                clock.advance(11 * 3600)
                #expect(try await browser.get("/console/overview", on: client).status == .ok)
            }
            clock.advance(3 * 3600 + 1)
            #expect(try await browser.get("/console/overview", on: client).status == .seeOther)
        }
    }

    @Test func disablingAUserEndsTheirSessionOnAnotherInstanceAtOnce() async throws {
        try await TestDatabase.withMigratedDatabase { postgres, configuration in
            let harness = try await AppHarness.make(postgres: postgres, configuration: AppConfiguration())
            let agent = try await ConsoleUsers.create(harness, email: "bob@acme.test", role: .agent)
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            try await TestDatabase.withClient(configuration) { secondPostgres in
                try await harness.instance(clock: TestClock()).test(.router) { first in
                    try await harness.instance(postgres: secondPostgres, clock: TestClock()).test(.router) { second in
                        var bob = ConsoleBrowser()
                        try await bob.signIn("bob@acme.test", ConsoleUsers.password, on: second)
                        #expect(try await bob.get("/console/dialer", on: second).status == .ok)
                        var ada = ConsoleBrowser()
                        try await ada.signIn("ada@acme.test", ConsoleUsers.password, on: first)
                        try await ada.get("/console/users/\(agent.id.lowercasedString)/disable", on: first)
                        let disabled = try await ada.post("/console/users/\(agent.id.lowercasedString)/disable", [:], on: first)
                        #expect(disabled.status == .seeOther)
                        let after = try await bob.get("/console/dialer", on: second)
                        #expect(after.status == .seeOther)
                        #expect(after.location?.hasPrefix("/console/sign-in") == true)
                        #expect(
                            try await harness.dependencies.sessions.count(
                                organizationID: harness.acme.id, userID: agent.id, logger: TestDatabase.logger) == 0)
                        // And the password no longer signs in.
                        var again = ConsoleBrowser()
                        #expect(try await again.signIn("bob@acme.test", ConsoleUsers.password, on: second).status == .unauthorized)
                    }
                }
            }
        }
    }

    @Test func signOutEndsTheSessionOnTheServer() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            let cookie = try #require(browser.cookies["switchboard_session"])
            try await browser.get("/console/overview", on: client)
            let out = try await browser.post("/console/sign-out", [:], on: client)
            #expect(out.status == .seeOther)
            #expect(browser.cookies["switchboard_session"] == nil)
            var replay = ConsoleBrowser()
            replay.cookies["switchboard_session"] = cookie
            #expect(try await replay.get("/console/overview", on: client).status == .seeOther)
        }
    }
}
