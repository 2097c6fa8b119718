import Foundation
import Hummingbird
import ServiceLifecycle

/// Routes each request to the simulated provider named by its first path segment, and records it.
struct SimulatorResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: SimulatorStore
    let twilio: TwilioAPI
    let telnyx: TelnyxAPI
    let vonage: VonageAPI
    let plivo: PlivoAPI

    /// Largest request body accepted, well above anything the real APIs take.
    private static let maximumBodySize = 1 << 20

    /// The provider a path prefix belongs to; Vonage's account API counts as Vonage, `/_sim` as the simulator.
    private static func providerName(_ prefix: String) -> String {
        switch prefix {
        case "twilio", "telnyx", "vonage", "plivo": return prefix
        case "vonage-rest": return "vonage"
        case "_sim": return "simulator"
        default: return "unknown"
        }
    }

    /// How often a stalled request looks whether its fault was cleared.
    private static let stallPoll: Duration = .milliseconds(20)

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let receivedAt = Date()
        let buffer = try await request.collectBody(upTo: Self.maximumBodySize)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let incoming = IncomingRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers,
            body: Array(buffer: buffer))

        let segments = incoming.segments
        let prefix = segments.first ?? ""
        let route = Array(segments.dropFirst())
        let outgoing: OutgoingResponse
        // Faults hit the provider APIs only; the simulator's own `_sim` routes always answer.
        if prefix != "_sim", route.first != "_sim", let faulted = await injectedFault(prefix: prefix) {
            outgoing = faulted
        } else {
            switch prefix {
            case "twilio": outgoing = await twilio.handle(incoming, route: route)
            case "telnyx": outgoing = await telnyx.handle(incoming, route: route)
            case "vonage": outgoing = await vonage.handleVoice(incoming, route: route)
            case "vonage-rest": outgoing = vonage.handleRest(incoming, route: route)
            case "plivo": outgoing = await plivo.handle(incoming, route: route)
            case "_sim": outgoing = handleSimulatorSettings(incoming, route: route)
            default: outgoing = .text(404, "No simulated provider at \(incoming.path)")
            }
        }

        store.record(
            RecordedRequest(
                provider: Self.providerName(prefix),
                method: incoming.method, path: incoming.path, query: incoming.query, headers: headers,
                body: incoming.body, status: outgoing.status, receivedAt: receivedAt))

        var fields = HTTPFields()
        for (name, value) in outgoing.headers {
            if let fieldName = HTTPFields.Element.Name(name) {
                fields.append(HTTPFields.Element(name: fieldName, value: value))
            }
        }
        return Response(
            status: .init(code: outgoing.status), headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: outgoing.body)))
    }

    // MARK: - Fault injection

    /// The answer the current `apiFault` gives a provider request, or nil to answer normally. A stall holds the request
    /// until the fault changes or the simulator stops (then it answers 503), so a stopping server is never held up.
    private func injectedFault(prefix: String) async -> OutgoingResponse? {
        guard ["twilio", "telnyx", "vonage", "vonage-rest", "plivo"].contains(prefix) else { return nil }
        while store.settings.apiFault == .stall {
            if store.isStopping || Task.isCancelled || Task.isShuttingDownGracefully {
                return Self.serverError(prefix: prefix, status: 503)
            }
            do {
                try await Task.sleep(for: Self.stallPoll)
            } catch {
                return Self.serverError(prefix: prefix, status: 503)
            }
        }
        guard store.settings.apiFault == .serverError else { return nil }
        return Self.serverError(prefix: prefix, status: 500)
    }

    /// A server error in the provider's own error shape.
    private static func serverError(prefix: String, status: Int) -> OutgoingResponse {
        let unavailable = status == 503
        switch prefix {
        case "twilio":
            return TwilioAPI.error(
                status, code: unavailable ? 20503 : 20500,
                message: unavailable ? "Service Unavailable" : "Internal Server Error")
        case "telnyx":
            return TelnyxAPI.error(status, code: "10007", title: "Unexpected error", detail: "An unexpected error occured.")
        case "vonage":
            return VonageAPI.error(
                status, type: "internal-error", title: unavailable ? "Service Unavailable" : "Internal Error",
                detail: "An internal error occurred; try again later.")
        case "vonage-rest":
            return .json(status, ["error-code": .string(String(status)), "error-code-label": "internal error"])
        default:
            return PlivoAPI.error(status, unavailable ? "service unavailable" : "internal server error")
        }
    }

    /// `GET|POST /_sim/settings`: reads or sets the API fault of a running simulator.
    private func handleSimulatorSettings(_ request: IncomingRequest, route: [String]) -> OutgoingResponse {
        guard route == ["settings"] else {
            return .json(404, ["error": .string("No simulator route at \(request.path)")])
        }
        switch request.method {
        case "GET":
            return .json(200, ["api_fault": .string(store.settings.apiFault.rawValue)])
        case "POST":
            guard let text = request.json?["api_fault"]?.stringValue, let fault = APIFault(rawValue: text) else {
                return .json(
                    400,
                    ["error": .string("Send {\"api_fault\": \"none\" | \"stall\" | \"server_error\"} as application/json.")])
            }
            store.changeSettings { $0.apiFault = fault }
            return .json(200, ["api_fault": .string(fault.rawValue)])
        default:
            return .json(405, ["error": "Use GET or POST."])
        }
    }
}
