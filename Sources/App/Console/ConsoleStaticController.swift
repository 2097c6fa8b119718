import Foundation
import Hummingbird

/// `GET /console/static/{file}`: the console's stylesheet and script, from the SwiftPM resources,
/// read once per process. Only the listed files exist.
struct ConsoleStaticController {
    static let files: [String: String] = [
        "console.css": "text/css; charset=utf-8",
        "console.js": "text/javascript; charset=utf-8",
    ]

    static let bundled: [String: ByteBuffer] = {
        var loaded: [String: ByteBuffer] = [:]
        for name in files.keys {
            let url = Bundle.module.resourceURL?.appendingPathComponent("Static").appendingPathComponent(name)
            if let url, let data = try? Data(contentsOf: url) { loaded[name] = ByteBuffer(bytes: data) }
        }
        return loaded
    }()

    func addRoutes(to router: Router<AppRequestContext>) {
        ConsoleRoutes.on(router, .get, "/static/:file") { _, context in
            let name = try context.pathParameter("file")
            guard let type = Self.files[name], let body = Self.bundled[name] else { throw ConsoleError.notFound }
            return Response(
                status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: body))
        }
    }
}
