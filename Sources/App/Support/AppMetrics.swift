import Foundation
import Prometheus
import Providers
import Synchronization

/// The server's Prometheus metrics, exposed at `GET /metrics` (text format 0.0.4).
///
/// Built on swift-prometheus's `PrometheusCollectorRegistry`, used directly rather than through
/// swift-metrics' process-wide `MetricsSystem.bootstrap`: every application (and every test) owns its
/// registry, so nothing is shared between servers in one process. Label values are only ever route
/// templates, methods, status codes, provider names and fixed reasons: never a raw path, an id, a
/// slug or a secret.
final class AppMetrics: ProviderMetrics {
    /// Latency buckets of the API's own requests, 0.5 ms to 10 s.
    static let requestBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    /// Latency buckets of outbound provider requests, 5 ms to 30 s.
    static let providerBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    let registry = PrometheusCollectorRegistry()

    /// The metrics' names and help texts (computed: swift-prometheus's descriptor is not `Sendable`).
    enum Name {
        static var requests: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "switchboard", subsystem: "http", metricName: "requests", unitName: "total",
                helpText: "HTTP requests answered, by method, route template and status.")
        }
        static var requestDuration: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "switchboard", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                helpText: "Time from receiving a request to its response, by method, route template and status.")
        }
        static var providerRequestDuration: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "switchboard", subsystem: "provider", metricName: "request_duration", unitName: "seconds",
                helpText: "Outbound provider API requests by provider and outcome (success, rejected, unavailable, timeout, transport_error).")
        }
        static var providerRequestErrors: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "switchboard", subsystem: "provider", metricName: "request_errors", unitName: "total",
                helpText: "Outbound provider API requests that did not succeed, by provider and outcome.")
        }
        static var cacheLookups: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "switchboard", subsystem: "provider", metricName: "cache_lookups", unitName: "total",
                helpText: "Provider resolutions answered from the per-organization cache (hit) or loaded from the database (miss).")
        }
        static var unmatchedEvents: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "switchboard", subsystem: "webhook", metricName: "unmatched_events", unitName: "total",
                helpText: "Verified provider webhooks stored but matching no call or session, by provider and kind.")
        }
        static var verificationFailures: MetricNameDescriptor {
            MetricNameDescriptor(
                namespace: "switchboard", subsystem: "webhook", metricName: "verification_failures", unitName: "total",
                helpText: "Provider webhooks refused because their signature did not verify, by provider and reason.")
        }
    }

    /// One request series: its counter and latency histogram, looked up once per label set.
    private struct RequestSeries {
        let count: Counter
        let duration: DurationHistogram
    }

    private struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private let requestSeries = Mutex<[RequestKey: RequestSeries]>([:])
    private let cacheHits: Counter
    private let cacheMisses: Counter

    init() {
        cacheHits = registry.makeCounter(descriptor: Name.cacheLookups, labels: [("result", "hit")])
        cacheMisses = registry.makeCounter(descriptor: Name.cacheLookups, labels: [("result", "miss")])
    }

    /// Counts one finished request under its route template (`unmatched` when no route matched).
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestKey(method: method, route: route, status: status)
        let series = requestSeries.withLock { series in
            if let existing = series[key] { return existing }
            let labels = [("method", method), ("route", route), ("status", String(status))]
            let made = RequestSeries(
                count: registry.makeCounter(descriptor: Name.requests, labels: labels),
                duration: registry.makeDurationHistogram(
                    descriptor: Name.requestDuration, labels: labels, buckets: Self.requestBuckets))
            series[key] = made
            return made
        }
        series.count.increment()
        series.duration.record(duration)
    }

    func providerRequest(_ provider: ProviderName, outcome: ProviderRequestOutcome, duration: Duration) {
        let labels = [("provider", provider.rawValue), ("outcome", outcome.rawValue)]
        registry.makeDurationHistogram(descriptor: Name.providerRequestDuration, labels: labels, buckets: Self.providerBuckets)
            .record(duration)
        if outcome != .success {
            registry.makeCounter(descriptor: Name.providerRequestErrors, labels: labels).increment()
        }
    }

    func providerCacheLookup(hit: Bool) {
        (hit ? cacheHits : cacheMisses).increment()
    }

    /// Counts a provider webhook whose signature did not verify (`reason`: missing_signature,
    /// invalid_signature, stale_timestamp, malformed).
    func webhookVerificationFailed(provider: ProviderName, error: WebhookVerificationError) {
        let reason =
            switch error {
            case .missingSignature: "missing_signature"
            case .invalidSignature: "invalid_signature"
            case .staleTimestamp: "stale_timestamp"
            case .malformed: "malformed"
            }
        registry.makeCounter(
            descriptor: Name.verificationFailures, labels: [("provider", provider.rawValue), ("reason", reason)]
        ).increment()
    }

    /// Counts a verified webhook that was stored but matched nothing it could be applied to.
    func webhookEventUnmatched(provider: ProviderName, kind: String) {
        registry.makeCounter(
            descriptor: Name.unmatchedEvents, labels: [("provider", provider.rawValue), ("kind", kind)]
        ).increment()
    }

    /// Every metric in the Prometheus text exposition format 0.0.4.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
