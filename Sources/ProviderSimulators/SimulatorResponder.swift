import Foundation
import Hummingbird

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

    /// The provider a path prefix belongs to; Vonage's account API counts as Vonage.
    private static func providerName(_ prefix: String) -> String {
        switch prefix {
        case "twilio", "telnyx", "vonage", "plivo": return prefix
        case "vonage-rest": return "vonage"
        default: return "unknown"
        }
    }

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
        switch prefix {
        case "twilio": outgoing = await twilio.handle(incoming, route: route)
        case "telnyx": outgoing = await telnyx.handle(incoming, route: route)
        case "vonage": outgoing = await vonage.handleVoice(incoming, route: route)
        case "vonage-rest": outgoing = vonage.handleRest(incoming, route: route)
        case "plivo": outgoing = await plivo.handle(incoming, route: route)
        default: outgoing = .text(404, "No simulated provider at \(incoming.path)")
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
}
