import Foundation
import Hummingbird
import Logging
import Mustache
import Persistence

/// The console's Mustache templates (SwiftPM resources under `Resources/Templates`), parsed once
/// per process, and the layout every signed-in page shares.
struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary

    /// Parsed once; nil (and every console page a 500) when the resources are missing or a
    /// template does not parse, which `ConsolePagesTests.templatesParseAndStaticFilesShip` rules out.
    static let bundled: ConsoleRenderer? = try? load()

    static func load() throws -> ConsoleRenderer {
        guard
            let directory = Bundle.module.url(forResource: "Templates", withExtension: nil)
                ?? Bundle.module.resourceURL?.appendingPathComponent("Templates")
        else {
            throw CocoaError(.fileNoSuchFile)
        }
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        where file.pathExtension == "mustache" {
            let text = try String(contentsOf: file, encoding: .utf8)
            try library.register(text, named: file.deletingPathExtension().lastPathComponent)
        }
        return ConsoleRenderer(library: library)
    }

    /// One link of the navigation.
    struct NavigationLink: Sendable {
        let title: String
        let href: String
        let current: Bool
    }

    /// What the layout partials (`top`, `bottom`) read.
    struct Layout: Sendable {
        let title: String
        let signedIn: Bool
        let navigation: [NavigationLink]
        let userEmail: String
        let userRole: String
        let organizationName: String
        let csrfToken: String
        var notice: String?
        var error: String?
    }

    /// A page: the layout and the page's own values.
    struct View<Content>: Sendable where Content: Sendable {
        let layout: Layout
        let content: Content
    }

    /// The layout for `context`'s user (or a signed-out page), with `page` marked current.
    static func layout(
        title: String, page: ConsolePage?, context: AppRequestContext, csrfToken: String? = nil
    ) -> Layout {
        guard let session = context.consoleSession else {
            return Layout(
                title: title, signedIn: false, navigation: [], userEmail: "", userRole: "", organizationName: "",
                csrfToken: csrfToken ?? "")
        }
        let role = session.user.role
        let links = ConsolePage.allCases.filter { $0.built && $0.roles.contains(role) }.map {
            NavigationLink(title: $0.title, href: $0.path, current: $0 == page)
        }
        return Layout(
            title: title, signedIn: true, navigation: links, userEmail: session.user.email, userRole: role.rawValue,
            organizationName: session.organizationName, csrfToken: session.csrfToken)
    }

    /// Renders `template` with `view` as an HTML response.
    func render<Content: Sendable>(
        _ template: String, _ view: View<Content>, status: HTTPResponse.Status = .ok, logger: Logger
    ) throws -> Response {
        guard let html = library.render(view, withTemplate: template) else {
            logger.error("console template missing", metadata: ["template": .string(template)])
            throw APIError.internalError
        }
        return Self.html(html, status: status)
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The renderer, or a 500 when this build shipped without its templates.
    static func require() throws -> ConsoleRenderer {
        guard let bundled else { throw APIError.internalError }
        return bundled
    }
}
