import AsyncHTTPClient
import ServiceLifecycle

/// The one shared outbound `HTTPClient`, shut down when the application shuts down.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
