import Hummingbird

/// `GET /metrics`: Prometheus text exposition (format 0.0.4) of `AppMetrics`.
///
/// Like `/healthz` it takes no API key, so a scraper needs no credential; it shows request
/// rates, latencies and provider error counts (no ids, slugs or secrets), which operators should
/// still keep off the public internet (serve it on an internal network or block it at the proxy).
struct MetricsController {
    let metrics: AppMetrics

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: Self.contentType],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }
}
