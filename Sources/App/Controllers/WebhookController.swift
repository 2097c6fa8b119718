import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence
import Providers

/// Provider-facing routes: no API key, authenticated by the provider's signature only.
///
/// `/api/v1/telephony/webhooks/{provider}/{org}/status` stores each status event once and moves
/// its call forward; `/answer` returns the markup that connects the call to its media stream.
/// Neither calls out to a provider, so both answer fast.
struct WebhookController {
    let organizations: OrganizationStore
    let calls: CallStore
    let factory: ProviderFactory
    let settings: TelephonySettings
    let now: @Sendable () -> Date
    /// Counts refused signatures per provider (`/metrics`); nil counts nothing.
    var metrics: AppMetrics? = nil
    /// Bounds each database step (no request hangs on the pool while PostgreSQL is away).
    var database = DatabaseAvailability()

    func addRoutes(to router: Router<AppRequestContext>) {
        let group = router.group("/api/v1/telephony/webhooks")
        group.post("/:provider/:org/status") { request, context in
            let (organization, provider, webhook) = try await verified(request, context)
            let event: CallStatusEvent
            do {
                event = try provider.parseStatusCallback(webhook)
            } catch {
                throw APIError.badRequest("malformed_webhook", "the webhook does not carry a call status event")
            }
            let outcome = try await database.bounded { [calls, logger = context.logger] in try await calls.record(
                RecordedEvent(
                    provider: provider.name.rawValue, eventKey: event.eventKey, kind: "status",
                    providerCallID: event.providerCallID.isEmpty ? nil : event.providerCallID,
                    status: event.status?.rawValue, rawStatus: event.rawStatus,
                    durationSeconds: event.durationSeconds, payload: Data(webhook.body),
                    providerLegID: event.providerLegID),
                organizationID: organization, logger: logger) }
            if outcome == .unmatched {
                // No call of this organization (with shared credentials, maybe another tenant's): acknowledged, stored nowhere.
                context.logger.notice(
                    "webhook for no call of this organization; not stored",
                    metadata: ["provider": "\(provider.name.rawValue)", "event": "\(event.rawStatus)"])
                metrics?.webhookEventUnmatched(provider: provider.name, kind: "status")
                return Response(status: .noContent)
            }
            context.logger.info(
                "webhook stored",
                metadata: [
                    "provider": "\(provider.name.rawValue)", "event": "\(event.rawStatus)",
                    "duplicate": "\(outcome == .duplicate)",
                ])
            return Response(status: .noContent)
        }
        for method in [HTTPRequest.Method.get, .post] {
            group.on("/:provider/:org/answer", method: method) { request, context in
                let (organization, provider, webhook) = try await verified(request, context)
                let logger = context.logger
                // Only a live call of this organization gets its stream (and a token for it); the
                // workflow ids are the stored call's, never the query's (unsigned for Telnyx and Vonage).
                guard
                    let call = try await database.bounded({ [calls] in
                        try await Self.answerableCall(
                            calls: calls, organizationID: organization, provider: provider, webhook: webhook,
                            queryCallID: request.uri.queryParameters.get("call_id"), logger: logger)
                    })
                else {
                    logger.notice("answer request for no live call of this organization; hanging up")
                    let markup = provider.hangupMarkup()
                    return Response(
                        status: .ok, headers: [.contentType: markup.contentType],
                        body: .init(byteBuffer: ByteBuffer(string: markup.body)))
                }
                // The answer request says the call was answered; where it carries a status, record it.
                if let event = try? provider.parseStatusCallback(webhook) {
                    _ = try await database.bounded { [calls] in try await calls.record(
                        RecordedEvent(
                            provider: provider.name.rawValue, eventKey: "answer:\(event.eventKey)", kind: "answer",
                            providerCallID: event.providerCallID.isEmpty ? call.providerCallID : event.providerCallID,
                            status: event.status?.rawValue, rawStatus: event.rawStatus,
                            durationSeconds: event.durationSeconds, payload: Data(webhook.body),
                            providerLegID: event.providerLegID),
                        organizationID: organization, logger: logger) }
                }
                let markup = provider.answerMarkup(
                    streamURL: settings.streamURL(
                        organizationID: organization, workflowID: call.workflowID, workflowRunID: call.workflowRunID,
                        now: now()))
                return Response(
                    status: .ok, headers: [.contentType: markup.contentType],
                    body: .init(byteBuffer: ByteBuffer(string: markup.body)))
            }
        }
    }

    /// The call an answer request is for, when it is one of the organization's calls and not over.
    /// `call_id` (Switchboard's id, in the answer URL since initiate-call) finds a call whose
    /// provider id is not recorded yet; a call whose provider id is known must be the one the
    /// request names. Without `call_id` (calls placed before it was added) the provider's ids decide.
    static func answerableCall(
        calls: CallStore, organizationID: UUID, provider: any TelephonyProvider, webhook: WebhookRequest,
        queryCallID: String?, logger: Logger
    ) async throws -> Call? {
        let named = provider.answerCallIdentity(webhook)
        let call: Call?
        if let raw = queryCallID {
            guard let id = UUID(uuidString: raw),
                let found = try await calls.get(organizationID: organizationID, id: id, logger: logger)
            else { return nil }
            if let known = found.providerCallID, named.callID != nil || named.legID != nil {
                let ids = Set([named.callID, named.legID].compactMap { $0 })
                guard ids.contains(known) else { return nil }
            }
            call = found
        } else {
            call = try await calls.find(
                organizationID: organizationID, provider: provider.name.rawValue, providerCallID: named.callID,
                legID: named.legID, logger: logger)
        }
        guard let call, call.provider == provider.name.rawValue, call.rawStatus != "unconfirmed",
            !(CallStatus(rawValue: call.status)?.isTerminal ?? false)
        else { return nil }
        return call
    }

    /// Resolves the organization and provider from the path and checks the signature against the
    /// public URL the provider called; 401/403 and nothing stored when it does not verify.
    func verified(_ request: Request, _ context: AppRequestContext) async throws
        -> (UUID, any TelephonyProvider, WebhookRequest)
    {
        var request = request
        let refused = APIError(status: .forbidden, code: "invalid_signature", message: "the webhook signature does not verify")
        guard let name = ProviderName(rawValue: try context.pathParameter("provider")) else {
            throw APIError.notFound("not_found", "no such webhook")
        }
        let reference = try context.pathParameter("org")
        let organizations = self.organizations
        let logger = context.logger
        // Providers retry on 5xx: a fast 503 beats a hung request while the database is away.
        let found = try await database.bounded {
            try await organizations.find(reference, logger: logger)
        }
        guard let organization = found, organization.disabledAt == nil else {
            throw refused
        }
        let provider: any TelephonyProvider
        do {
            // A cache miss reads (and opens) the stored configuration: bounded like every database step.
            let factory = self.factory
            let organizationID = organization.id
            provider = try await database.bounded { try await factory.provider(for: organizationID, named: name) }
        } catch let error as ProviderResolutionError {
            context.logger.warning("webhook for an unconfigured provider", metadata: ["reason": "\(error)"])
            throw refused
        } catch let error as ConfigurationValidationError {
            // Never tell an unauthenticated caller which stored fields are wrong; the operator sees it in the log.
            context.logger.error("stored provider configuration is invalid", metadata: ["problems": "\(error)"])
            throw refused
        } catch let error as SealingError {
            // Nor that this server cannot open the stored configuration: nothing verifies, so 403.
            context.logger.error("sealed configuration unreadable", metadata: ["error": .string(error.description)])
            throw refused
        }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: RequestLimits.maxBodySize)
        } catch {
            throw APIError.payloadTooLarge
        }
        let webhook = WebhookRequest(
            method: request.method.rawValue, url: settings.publicURL + (request.uri.string),
            headers: request.headers.map { ($0.name.canonicalName, $0.value) }, body: Array(body.readableBytesView))
        do {
            try provider.verifyWebhook(webhook, now: now())
        } catch {
            metrics?.webhookVerificationFailed(provider: name, error: error)
            // Warned about once a second per reason by AuthenticationFailureMiddleware; this line is per request.
            context.logger.debug(
                "webhook refused", metadata: ["provider": "\(name.rawValue)", "reason": "\(error)"])
            if case .missingSignature = error {
                throw APIError(status: .unauthorized, code: "missing_signature", message: error.description)
            }
            throw refused
        }
        return (organization.id, provider, webhook)
    }
}

/// Legacy `/api/v1/twilio/*` answers 308 to `/api/v1/telephony/*`, method and query kept.
struct LegacyTwilioRedirectMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let legacyPrefix = "/api/v1/twilio"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path == Self.legacyPrefix || path.hasPrefix(Self.legacyPrefix + "/") else {
            return try await next(request, context)
        }
        var location = "/api/v1/telephony" + path.dropFirst(Self.legacyPrefix.count)
        if let query = request.uri.query, !query.isEmpty { location += "?" + query }
        return Response(status: .permanentRedirect, headers: [.location: location])
    }
}
