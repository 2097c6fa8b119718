import Foundation
import Hummingbird

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route, served as stored.
///
/// The document is `Sources/App/Resources/openapi.json` (a SwiftPM resource; `docs/openapi.json`
/// links to it), read once when the router is built, so a binary shipped without its resource
/// bundle stops at start-up rather than on the first request. `OpenAPICoverageTests` checks that
/// it lists exactly the routes the router registers.
struct OpenAPIController {
    /// The document's bytes, exactly as in the repository.
    let document: ByteBuffer

    init() {
        self.init(document: Self.bundled)
    }

    init(document: ByteBuffer) {
        self.document = document
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let document = self.document
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: document))
        }
    }

    /// Read once per process.
    static let bundled = bundledDocument()

    /// The resource's bytes; a missing or unreadable resource is a broken build, not a runtime condition.
    static func bundledDocument() -> ByteBuffer {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else {
            fatalError("openapi.json is missing from the App resource bundle; rebuild with `swift build`")
        }
        return ByteBuffer(bytes: data)
    }
}
