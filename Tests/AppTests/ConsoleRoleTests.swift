import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

/// Walks the router's own console routes: each is in the access table, refused without a session,
/// refused to a role the table does not name, and blind to another organization's ids.
@Suite struct ConsoleRoleTests {
    static func consoleRoutes(_ harness: AppHarness) -> [(method: HTTPRequest.Method, path: String)] {
        buildRouter(harness.dependencies).routes
            .filter { $0.path.description == "/console" || $0.path.description.hasPrefix("/console/") }
            .map { ($0.method, $0.path.description) }
            .sorted { "\($0.path) \($0.method)" < "\($1.path) \($1.method)" }
    }

    static func uri(_ path: String, id: String) -> String {
        path.replacingOccurrences(of: "{id}", with: id)
            .replacingOccurrences(of: "{token}", with: String(repeating: "x", count: 43))
            .replacingOccurrences(of: "{file}", with: "console.css")
    }

    static let form = ["name": "probe", "role": "admin", "email": "probe@acme.test"]

    @Test func everyConsoleRouteIsInTheAccessTable() async throws {
        try await AppHarness.runConsole { harness, _ in
            let routes = Self.consoleRoutes(harness)
            #expect(routes.count >= 15)
            for route in routes {
                #expect(ConsoleRoutes.access["\(route.method.rawValue) \(route.path)"] != nil, "\(route.method) \(route.path) has no access rule")
            }
            #expect(routes.count == ConsoleRoutes.access.count, "the table lists routes the router does not have")
        }
    }

    @Test func everyConsoleRouteRefusesWhoItMustRefuse() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            let agent = try await ConsoleUsers.create(harness, email: "bob@acme.test", role: .agent)
            let before = try await snapshot(harness)
            var bob = ConsoleBrowser()
            try await bob.signIn("bob@acme.test", ConsoleUsers.password, on: client)
            try await bob.get("/console/dialer", on: client)
            let id = agent.id.lowercasedString
            var probes = 0
            for (method, path) in Self.consoleRoutes(harness) {
                let access = try #require(ConsoleRoutes.access["\(method.rawValue) \(path)"])
                let uri = Self.uri(path, id: id)
                guard case .signedIn(let roles) = access else { continue }
                var anonymous = ConsoleBrowser()
                let refused =
                    method == .get
                    ? try await anonymous.get(uri, on: client)
                    : try await anonymous.post(uri, Self.form, on: client, csrf: bob.csrf)
                if method == .get {
                    #expect(refused.status == .seeOther, "anonymous \(method) \(uri): \(refused.status)")
                    #expect(refused.location?.hasPrefix("/console/sign-in") == true)
                } else {
                    #expect(refused.status == .forbidden, "anonymous \(method) \(uri): \(refused.status)")
                }
                if !roles.contains(.agent) {
                    let response =
                        method == .get ? try await bob.get(uri, on: client) : try await bob.post(uri, Self.form, on: client)
                    #expect(response.status == .forbidden, "agent \(method) \(uri): \(response.status)")
                    #expect(!response.text.contains("probe"))
                    try await bob.get("/console/dialer", on: client)  // a fresh page, a fresh token
                }
                probes += 1
            }
            #expect(probes >= 12)
            #expect(try await snapshot(harness) == before)
            var ada = ConsoleBrowser()
            try await ada.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            for (method, path) in Self.consoleRoutes(harness) where method == .get {
                let response = try await ada.get(Self.uri(path, id: id), on: client)
                #expect(response.status != .forbidden, "admin GET \(path): \(response.status)")
            }
        }
    }

    @Test func anotherOrganizationsIdsAreNotFoundAndUnchanged() async throws {
        try await AppHarness.runConsole { harness, client in
            try await ConsoleUsers.create(harness, email: "ada@acme.test", role: .admin)
            let globexUser = try await ConsoleUsers.create(harness, organization: harness.globex, email: "gil@globex.test", role: .agent)
            let globexKey = try #require(
                try await harness.dependencies.keys.list(organizationID: harness.globex.id, logger: TestDatabase.logger).first)
            let before = try await snapshot(harness)
            var ada = ConsoleBrowser()
            try await ada.signIn("ada@acme.test", ConsoleUsers.password, on: client)
            try await ada.get("/console/users", on: client)
            var probes = 0
            for (method, path) in Self.consoleRoutes(harness) where path.contains("{id}") {
                let id = path.hasPrefix("/console/users") ? globexUser.id.lowercasedString : globexKey.id.lowercasedString
                let uri = Self.uri(path, id: id)
                let response = method == .get ? try await ada.get(uri, on: client) : try await ada.post(uri, Self.form, on: client)
                #expect(response.status == .notFound, "\(method) \(uri): \(response.status)")
                #expect(!response.text.contains("gil@globex.test") && !response.text.contains(globexKey.prefix))
                try await ada.get("/console/users", on: client)
                probes += 1
            }
            #expect(probes >= 6)
            #expect(try await snapshot(harness) == before)
        }
    }

    /// Users, sessions-independent state, keys and audit rows of both organizations.
    func snapshot(_ harness: AppHarness) async throws -> String {
        let rows = try await harness.postgres.query(
            """
            SELECT (SELECT string_agg(email || ':' || role || ':' || coalesce(disabled_at::text, '-'), ',' ORDER BY email) FROM users),
                   (SELECT string_agg(id::text || ':' || coalesce(revoked_at::text, '-'), ',' ORDER BY id) FROM api_keys),
                   (SELECT count(*)::text FROM user_invitations),
                   (SELECT count(*)::text FROM audit_events)
            """, logger: TestDatabase.logger)
        var result = ""
        for try await (users, keys, invitations, audit) in rows.decode((String?, String?, String, String).self) {
            result = "\(users ?? "")|\(keys ?? "")|\(invitations)|\(audit)"
        }
        return result
    }
}
