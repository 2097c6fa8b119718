import Foundation
import Logging
import Providers

/// What the cold-call workflow (`ColdCallService`) refuses or fails at, in its own terms; the HTTP
/// layer maps it to what a client sees (`apiError`, applied by `RequestMiddleware`).
enum ColdCallError: Error, Sendable {
    /// No usable provider for the organization (the reason names what is missing).
    case providerNotConfigured(String)
    /// The organization's provider cannot run conferences.
    case providerUnsupported(ProviderName)
    /// The Idempotency-Key belongs to a call that is not a cold call.
    case idempotencyKeyReused
    /// The earlier call of this Idempotency-Key was never confirmed by the provider.
    case providerUnconfirmed(callID: UUID)
    /// A provider request failed (already logged).
    case providerFailed(ProviderName, reason: String)
    /// A provider webhook that is not a conference, call or recording event.
    case malformedWebhook

    /// A provider failure as the workflow reports it: logged once here, cancellation passed through.
    static func provider(_ error: any Error, _ provider: ProviderName, logger: Logger) -> any Error {
        if error is CancellationError { return error }
        let reason = (error as? ProviderError)?.description ?? "the request could not be completed (\(type(of: error)))"
        logger.warning("provider request failed", metadata: ["provider": "\(provider.rawValue)", "error": "\(reason)"])
        return ColdCallError.providerFailed(provider, reason: reason)
    }

    /// The client's answer: the same statuses, codes and messages the routes have always given.
    var apiError: APIError {
        switch self {
        case .providerNotConfigured(let reason):
            return .unprocessable("provider_not_configured", reason)
        case .providerUnsupported(let name):
            return .unprocessable(
                "provider_unsupported",
                "cold calls run through provider conferences, which Switchboard supports for twilio and telnyx, not \(name.rawValue)")
        case .idempotencyKeyReused:
            return .conflict("idempotency_key_reused", "this Idempotency-Key was used for a call that is not a cold call")
        case .providerUnconfirmed(let callID):
            return APIError(
                status: .badGateway, code: "provider_unconfirmed",
                message: "the provider did not confirm the call made with this Idempotency-Key (call \(callID.lowercasedString)); check it at the provider before retrying with a new key")
        case .providerFailed(let name, let reason):
            return APIError(status: .badGateway, code: "provider_error", message: "\(name.rawValue): \(reason)")
        case .malformedWebhook:
            return .badRequest("malformed_webhook", "the webhook is not a conference, call or recording event")
        }
    }
}
