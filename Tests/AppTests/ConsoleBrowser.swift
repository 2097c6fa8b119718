import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import NIOCore
import Persistence
import TestSupport
import Testing

@testable import App

/// A minimal browser for the console in router tests: keeps cookies, reads the CSRF token of the
/// last page, sends forms.
struct ConsoleBrowser {
    var cookies: [String: String] = [:]
    /// The `_csrf` hidden field of the last page that had one.
    var csrf: String?
    var last: TestResponse?

    init() {}

    /// The cookie header for the stored cookies.
    var cookieHeader: String? {
        cookies.isEmpty ? nil : cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
    }

    @discardableResult
    mutating func get(_ path: String, on client: any TestClientProtocol) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let cookieHeader { headers[.cookie] = cookieHeader }
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        absorb(response)
        return response
    }

    /// Posts a form; `_csrf` is the last page's token unless the fields name one.
    @discardableResult
    mutating func post(_ path: String, _ fields: [String: String], on client: any TestClientProtocol, csrf override: String? = nil)
        async throws -> TestResponse
    {
        var fields = fields
        if fields["_csrf"] == nil, let token = override ?? csrf { fields["_csrf"] = token }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map {
            "\($0.key.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookieHeader { headers[.cookie] = cookieHeader }
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        absorb(response)
        return response
    }

    mutating func absorb(_ response: TestResponse) {
        last = response
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2 || pair.count == 1 else { continue }
            let name = String(pair[0]).trimmingCharacters(in: .whitespaces)
            let value = pair.count == 2 ? String(pair[1]) : ""
            if value.isEmpty || header.lowercased().contains("max-age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        let html = String(buffer: response.body)
        if let range = html.range(of: #"name="_csrf" value="([A-Za-z0-9]+)""#, options: .regularExpression) {
            let match = html[range]
            csrf = String(match.split(separator: "\"")[3])
        }
    }

    /// Signs in through the form; returns the sign-in POST's response.
    @discardableResult
    mutating func signIn(_ email: String, _ password: String, on client: any TestClientProtocol) async throws -> TestResponse {
        try await get("/console/sign-in", on: client)
        return try await post("/console/sign-in", ["email": email, "password": password], on: client)
    }
}

extension TestResponse {
    var location: String? { headers[.location] }
}

/// Console users for tests, with passwords hashed at bcrypt's lowest cost (verification reads the
/// cost from the hash, so sign-in works the same and the suite stays fast).
enum ConsoleUsers {
    static let password = "correct horse battery"

    @discardableResult
    static func create(
        _ harness: AppHarness, organization: Organization? = nil, email: String, role: UserRole, password: String = password
    ) async throws -> User {
        try await harness.dependencies.users.upsertWithPassword(
            organizationID: (organization ?? harness.acme).id, email: email, name: "", role: role,
            passwordHash: Bcrypt.hash(password, cost: 4), actor: .commandLine, logger: TestDatabase.logger)
    }
}
