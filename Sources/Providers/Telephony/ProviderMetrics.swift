/// How one outbound provider request ended, as metrics count it.
public enum ProviderRequestOutcome: String, Sendable, CaseIterable {
    /// The provider answered 2xx.
    case success
    /// The provider refused the request (4xx).
    case rejected
    /// The provider failed (5xx).
    case unavailable
    /// No answer within the request's deadline.
    case timeout
    /// The request could not be sent or its answer not read (connection refused, reset, …).
    case transportError = "transport_error"
}

/// Receives the provider layer's measurements; the application exports them (Prometheus).
///
/// Implementations must be cheap and thread-safe: they are called on every provider request and
/// every provider resolution. Nothing passed here is secret.
public protocol ProviderMetrics: Sendable {
    /// One outbound request to `provider`'s API finished.
    func providerRequest(_ provider: ProviderName, outcome: ProviderRequestOutcome, duration: Duration)
    /// `ProviderFactory` resolved an organization's providers from its cache (`hit`) or the database.
    func providerCacheLookup(hit: Bool)
}

/// Measures nothing: the default where no metrics are wanted (tools, tests).
public struct NoProviderMetrics: ProviderMetrics {
    public init() {}
    public func providerRequest(_ provider: ProviderName, outcome: ProviderRequestOutcome, duration: Duration) {}
    public func providerCacheLookup(hit: Bool) {}
}
