import Hummingbird

/// Counts every request and its latency under the route template it matched (`{org}`, never the
/// organization itself), its method and its final status.
///
/// Added before every other middleware, so it sees the status the client sees (errors already
/// mapped by `RequestMiddleware`) and times the whole chain.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: AppMetrics

    /// The label of requests no route matched: their raw paths would be unbounded and may carry ids.
    static let unmatchedRoute = "unmatched"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: Int(response.status.code), since: start)
            return response
        } catch {
            record(request, context, status: (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? Self.unmatchedRoute
        metrics.recordRequest(
            method: request.method.rawValue, route: route, status: status, duration: ContinuousClock.now - start)
    }
}
