import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// `Sources/App/Resources/openapi.json` against the router: every registered route is documented,
/// every documented route exists, the document is well-formed OpenAPI 3.1, and what
/// `GET /openapi.json` serves is that file (and `docs/openapi.json` the same bytes).
@Suite struct OpenAPICoverageTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let resource = repository.appendingPathComponent("Sources/App/Resources/openapi.json")
    static let docsCopy = repository.appendingPathComponent("docs/openapi.json")
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static func document() throws -> [String: Any] {
        let data = try Data(contentsOf: resource)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "openapi.json is not a JSON object")
    }

    /// `"GET /api/v1/organizations/{org}"` for every operation of the document.
    static func documentedRoutes(_ document: [String: Any]) throws -> Set<String> {
        let paths = try #require(document["paths"] as? [String: Any])
        var routes = Set<String>()
        for (path, item) in paths {
            let item = try #require(item as? [String: Any], "\(path) is not an object")
            for method in item.keys where methods.contains(method) {
                routes.insert("\(method.uppercased()) \(path)")
            }
        }
        return routes
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let documented = try Self.documentedRoutes(Self.document())
        try await AppHarness.run { harness, _ in
            // The console's HTML pages are not the API; ConsoleRoleTests walks those.
            let registered = Set(
                buildRouter(harness.dependencies).routes
                    .filter { !($0.path.description == ConsoleRoutes.prefix || $0.path.description.hasPrefix(ConsoleRoutes.prefix + "/")) }
                    .map { "\($0.method.rawValue) \($0.path.description)" })
            #expect(registered.count >= 30)
            let undocumented = registered.subtracting(documented).sorted()
            let missing = documented.subtracting(registered).sorted()
            #expect(undocumented.isEmpty, "routes the router registers but openapi.json does not list: \(undocumented)")
            #expect(missing.isEmpty, "operations openapi.json lists but the router does not register: \(missing)")
        }
    }

    @Test func documentIsOpenAPI31WithSecurityAndSharedErrors() throws {
        let document = try Self.document()
        let version = try #require(document["openapi"] as? String)
        #expect(version.hasPrefix("3.1."), "openapi is \(version), not 3.1.x")
        let info = try #require(document["info"] as? [String: Any])
        #expect(info["title"] is String && info["version"] is String)
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: Any])
        for scheme in ["bearerAuth", "apiKeyHeader"] {
            #expect(schemes[scheme] != nil, "securitySchemes lacks \(scheme)")
        }
        let schemas = try #require(components["schemas"] as? [String: Any])
        #expect(schemas["Error"] != nil)

        // Every $ref points at something.
        var unresolved: [String] = []
        Self.visit(document) { reference in
            if Self.resolve(reference, in: document) == nil { unresolved.append(reference) }
        }
        #expect(unresolved.isEmpty, "unresolved $refs: \(unresolved)")

        let paths = try #require(document["paths"] as? [String: Any])
        var operationIDs: [String: String] = [:]
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            let item = try #require(item as? [String: Any])
            for (method, operation) in item where Self.methods.contains(method) {
                let name = "\(method.uppercased()) \(path)"
                let operation = try #require(operation as? [String: Any], "\(name) is not an object")
                if let id = operation["operationId"] as? String {
                    #expect(operationIDs[id] == nil, "operationId \(id) is used by \(name) and \(operationIDs[id] ?? "")")
                    operationIDs[id] = name
                } else {
                    Issue.record("\(name) has no operationId")
                }
                #expect(operation["security"] != nil || document["security"] != nil, "\(name) declares no security")
                // Each {param} of the path template is a declared path parameter.
                let declared = Set(
                    ((operation["parameters"] as? [Any] ?? []) + (item["parameters"] as? [Any] ?? [])).compactMap {
                        parameter -> String? in
                        let resolved = Self.follow(parameter, in: document) as? [String: Any]
                        return resolved?["in"] as? String == "path" ? resolved?["name"] as? String : nil
                    })
                let templated = Set(Self.templateParameters(path))
                #expect(declared == templated, "\(name): path parameters \(declared.sorted()) ≠ template \(templated.sorted())")
                // At least one 4xx answers with the shared error body.
                let responses = try #require(operation["responses"] as? [String: Any], "\(name) has no responses")
                let sharedErrors = responses.filter { status, response in
                    guard status.hasPrefix("4"),
                        let resolved = Self.follow(response, in: document) as? [String: Any],
                        let content = resolved["content"] as? [String: Any],
                        let json = content["application/json"] as? [String: Any],
                        let schema = json["schema"] as? [String: Any]
                    else { return false }
                    return schema["$ref"] as? String == "#/components/schemas/Error"
                }
                #expect(!sharedErrors.isEmpty, "\(name) documents no 4xx with the shared Error schema")
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(name) documents no 2xx")
            }
        }
    }

    @Test func servedDocumentIsTheRepositoryFileAndDocsHasTheSameBytes() async throws {
        let stored = try Data(contentsOf: Self.resource)
        let docs = try Data(contentsOf: Self.docsCopy)
        #expect(docs == stored, "docs/openapi.json differs from Sources/App/Resources/openapi.json; keep it a link to it")
        try await AppHarness.run { _, client in
            let response = try await client.execute(uri: "/openapi.json", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(Data(buffer: response.body) == stored)
        }
    }

    // MARK: - Helpers

    static func templateParameters(_ path: String) -> [String] {
        path.split(separator: "/").compactMap { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
        }
    }

    /// Calls `body` with every `$ref` value in `value`.
    static func visit(_ value: Any, _ body: (String) -> Void) {
        if let object = value as? [String: Any] {
            if let reference = object["$ref"] as? String { body(reference) }
            for child in object.values { visit(child, body) }
        } else if let array = value as? [Any] {
            for child in array { visit(child, body) }
        }
    }

    /// The value a local `#/…` reference names, or nil.
    static func resolve(_ reference: String, in document: [String: Any]) -> Any? {
        guard reference.hasPrefix("#/") else { return nil }
        var current: Any = document
        for token in reference.dropFirst(2).split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let object = current as? [String: Any], let next = object[key] else { return nil }
            current = next
        }
        return current
    }

    /// `value`, with `$ref`s followed.
    static func follow(_ value: Any, in document: [String: Any]) -> Any? {
        var current: Any? = value
        for _ in 0..<10 {
            guard let object = current as? [String: Any], let reference = object["$ref"] as? String else { return current }
            current = resolve(reference, in: document)
        }
        return nil
    }
}
