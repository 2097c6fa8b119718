/// A fault the simulated provider APIs inject into every REST request (simulator-only `_sim` routes are spared).
public enum APIFault: String, Sendable, Equatable, CaseIterable {
    /// Answer normally.
    case none
    /// Hold each request without answering until the client gives up, the fault is cleared, or the simulator stops.
    case stall
    /// Answer 500 in the provider's error shape.
    case serverError = "server_error"
}
