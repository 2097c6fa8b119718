import Foundation
import Hummingbird

/// `GET /openapi.json`: the OpenAPI 3.1 document of every route, served as stored.
///
/// The document is `Sources/App/Resources/openapi.json` (a SwiftPM resource; `docs/openapi.json`
/// links to it), read once per process when the router is built. A binary shipped without its
/// resource directory stops there (SwiftPM's `Bundle.module` cannot find it); an unreadable file
/// inside it leaves the API serving and this route answering 503 `openapi_unavailable`. `OpenAPICoverageTests` checks that it lists exactly the routes the router registers.
struct OpenAPIController {
    /// The document's bytes, exactly as in the repository; nil when the resource is missing.
    let document: ByteBuffer?

    init() {
        self.init(document: Self.bundled)
    }

    init(document: ByteBuffer?) {
        self.document = document
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let document = self.document
        router.get("/openapi.json") { _, _ in
            guard let document else {
                throw APIError(
                    status: .serviceUnavailable, code: "openapi_unavailable",
                    message: "this build has no OpenAPI document: ship the switchboard_App.resources directory beside the binary")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: document))
        }
    }

    /// Read once per process.
    static let bundled = bundledDocument()

    /// The resource's bytes, or nil when the build shipped without them.
    static func bundledDocument() -> ByteBuffer? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return ByteBuffer(bytes: data)
    }
}
