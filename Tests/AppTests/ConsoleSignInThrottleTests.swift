import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

@Suite struct ConsoleSignInThrottleTests {
    @Test func fiveFailuresBlockTheAccountFor15MinutesEvenWithTheRightPassword() async throws {
        let clock = TestClock()
        try await AppHarness.runConsole(clock: clock) { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            for _ in 0..<SignInThrottle.limit {
                #expect(try await browser.signIn("ada@acme.test", "wrong password!", on: client).status == .unauthorized)
            }
            let blocked = try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.text.contains("Too many failed sign-ins"))
            #expect(browser.cookies["switchboard_session"] == nil)
            clock.advance(14 * 60)
            #expect(try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client).status == .tooManyRequests)
            clock.advance(60 + 1)
            #expect(try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client).status == .seeOther)
        }
    }

    @Test func fiveFailuresFromOneAddressBlockEveryAccountFromIt() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            for attempt in 0..<SignInThrottle.limit {
                #expect(try await browser.signIn("nobody\(attempt)@acme.test", "guess", on: client).status == .unauthorized)
            }
            #expect(try await browser.signIn("ada@acme.test", ConsoleUsers.password, on: client).status == .tooManyRequests)
        }
    }

    @Test func anUnknownEmailAndAWrongPasswordAnswerAlike() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            var browser = ConsoleBrowser()
            let wrong = try await browser.signIn("ada@acme.test", "not her password", on: client)
            let unknown = try await browser.signIn("nobody@acme.test", "not her password", on: client)
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(wrong.text.contains(ConsoleSignInController.failedMessage))
            func withoutEmail(_ text: String) -> String {
                text.replacingOccurrences(of: "ada@acme.test", with: "").replacingOccurrences(of: "nobody@acme.test", with: "")
                    .replacingOccurrences(of: #"value="[A-Za-z0-9]{43}""#, with: "", options: .regularExpression)
            }
            #expect(withoutEmail(wrong.text) == withoutEmail(unknown.text))
        }
    }
}
