import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence
import Providers

/// Provider-facing cold-call routes, authenticated by the provider's signature only:
///
/// - `…/webhooks/{provider}/{org}/cold-call/events`: Twilio conference and recording status
///   callbacks; every Telnyx event of a cold-call leg (call, conference, recording). The operator
///   points the Telnyx credential connection's webhook URL here too, so the agent's browser leg
///   is answered and bridged.
/// - `…/webhooks/{provider}/{org}/cold-call/twiml`: the markup that joins a Twilio leg to its
///   conference — the contact's (token in the URL) and the agent's browser leg (the TwiML app's
///   Voice URL; token in the Access Token's params).
///
/// Both run under the status webhook's database deadlines (`DatabaseAvailability`): a request
/// during an outage answers 503 at once instead of hanging on the pool. The events route may also
/// answer or bridge a leg at the provider, so its deadline allows `providerTimeout` more.
struct ColdCallWebhookController {
    let webhooks: WebhookController
    let service: ColdCallService
    /// The deadline of one provider request (`SWITCHBOARD_PROVIDER_TIMEOUT_MS`).
    var providerTimeout: Duration = .seconds(10)

    func addRoutes(to router: Router<AppRequestContext>) {
        let group = router.group("/api/v1/telephony/webhooks")
        group.post("/:provider/:org/cold-call/events") { request, context in
            let (organizationID, provider, webhook) = try await webhooks.verified(request, context)
            guard let conferencing = provider as? any ConferenceProvider else {
                throw APIError.notFound("not_found", "\(provider.name.rawValue) has no cold-call webhooks")
            }
            do {
                let service = self.service
                let logger = context.logger
                try await webhooks.database.bounded(allowance: providerTimeout) {
                    try await service.handleEvent(
                        organizationID: organizationID, provider: conferencing, webhook: webhook, logger: logger)
                }
            } catch let error as ProviderError {
                // Answering or bridging a leg failed: 503 makes the provider retry the event.
                context.logger.warning("cold-call event not applied", metadata: ["error": "\(error)"])
                throw APIError(status: .serviceUnavailable, code: "provider_error", message: "the event could not be applied; retry")
            } catch is DecodingError {
                throw APIError.badRequest("malformed_webhook", "the webhook is not a cold-call event")
            }
            return Response(status: .noContent)
        }
        for method in [HTTPRequest.Method.get, .post] {
            group.on("/:provider/:org/cold-call/twiml", method: method) { request, context in
                let (organizationID, provider, webhook) = try await webhooks.verified(request, context)
                guard let conferencing = provider as? any ConferenceProvider, conferencing.conferenceStyle == .markup else {
                    throw APIError.notFound("not_found", "\(provider.name.rawValue) takes no conference markup")
                }
                let service = self.service
                let logger = context.logger
                let queryToken = request.uri.queryParameters.get("token")
                let markup = try await webhooks.database.bounded {
                    try await service.joinMarkup(
                        organizationID: organizationID, provider: conferencing, webhook: webhook, queryToken: queryToken,
                        logger: logger)
                }
                return Response(
                    status: .ok, headers: [.contentType: markup.contentType],
                    body: .init(byteBuffer: ByteBuffer(string: markup.body)))
            }
        }
    }
}
