import Foundation
import Logging

/// What a call needs from the provider to be placed.
public struct OutboundCall: Sendable, Equatable {
    /// E.164 destination.
    public var to: String
    /// E.164 caller id; one of the organization's numbers.
    public var from: String
    /// Where the provider fetches the call's markup when it answers.
    public var answerURL: String
    /// Where the provider posts status events.
    public var statusCallbackURL: String
    /// Opaque state echoed back in events (Telnyx `client_state`), if any.
    public var clientState: String?
    /// A key that makes the provider ignore a retried request (Telnyx `command_id`), if supported.
    public var idempotencyKey: String?
    /// Seconds to ring before giving up.
    public var ringTimeoutSeconds: Int
    /// The media stream to start when the call is answered, for providers that take it at dial
    /// time instead of from answer markup (Telnyx Call Control).
    public var mediaStreamURL: String?

    public init(
        to: String, from: String, answerURL: String, statusCallbackURL: String, clientState: String? = nil,
        idempotencyKey: String? = nil, ringTimeoutSeconds: Int = 60, mediaStreamURL: String? = nil
    ) {
        self.mediaStreamURL = mediaStreamURL
        self.to = to
        self.from = from
        self.answerURL = answerURL
        self.statusCallbackURL = statusCallbackURL
        self.clientState = clientState
        self.idempotencyKey = idempotencyKey
        self.ringTimeoutSeconds = ringTimeoutSeconds
    }
}

/// A call the provider accepted.
public struct PlacedCall: Sendable, Equatable {
    public var providerCallID: String
    public var status: CallStatus
    /// The provider's own word for the status.
    public var rawStatus: String
}

/// A call's state as the provider reports it now.
public struct ProviderCallState: Sendable, Equatable {
    public var providerCallID: String
    public var status: CallStatus
    public var rawStatus: String
    public var durationSeconds: Int?
}

/// One of the account's phone numbers.
public struct ProviderPhoneNumber: Sendable, Equatable, Codable {
    public var number: String
    public var providerID: String?

    enum CodingKeys: String, CodingKey {
        case number
        case providerID = "provider_id"
    }
}

/// A status callback, normalized.
public struct CallStatusEvent: Sendable, Equatable {
    public init(
        eventKey: String, providerCallID: String, status: CallStatus?, rawStatus: String, from: String? = nil,
        to: String? = nil, durationSeconds: Int? = nil, occurredAt: Date? = nil, clientState: String? = nil,
        providerLegID: String? = nil
    ) {
        self.providerLegID = providerLegID
        self.eventKey = eventKey
        self.providerCallID = providerCallID
        self.status = status
        self.rawStatus = rawStatus
        self.from = from
        self.to = to
        self.durationSeconds = durationSeconds
        self.occurredAt = occurredAt
        self.clientState = clientState
    }

    /// The provider's id for this event when it has one; else call id + status + timestamp.
    public var eventKey: String
    public var providerCallID: String
    /// nil for events that do not change the call's status (they are still stored).
    public var status: CallStatus?
    public var rawStatus: String
    public var from: String?
    public var to: String?
    public var durationSeconds: Int?
    public var occurredAt: Date?
    public var clientState: String?
    /// The provider's second id for the call, when its callbacks carry one: Plivo's `CallUUID` (the
    /// live call, where `providerCallID` is the request), Telnyx's `call_leg_id`.
    public var providerLegID: String?
}

/// The markup a provider expects in answer to its answer webhook.
public struct WebhookMarkup: Sendable, Equatable {
    public var contentType: String
    public var body: String

    public init(contentType: String, body: String) {
        self.contentType = contentType
        self.body = body
    }
}

/// Why a provider call failed; the reason is the provider's own, never a credential.
public enum ProviderError: Error, Equatable, CustomStringConvertible {
    /// The provider refused the request (4xx): wrong credentials, bad number, …
    case rejected(status: Int, reason: String)
    /// The provider could not be reached in time, or failed (5xx).
    case unavailable(String)
    /// The provider answered something we could not read.
    case invalidResponse(String)
    /// The operation is not something this provider offers.
    case unsupported(String)

    public var description: String {
        switch self {
        case .rejected(let status, let reason): "provider refused the request (\(status)): \(reason)"
        case .unavailable(let reason): "provider unavailable: \(reason)"
        case .invalidResponse(let reason): "provider answered unexpectedly: \(reason)"
        case .unsupported(let what): "not supported by this provider: \(what)"
        }
    }
}

/// One telephony provider account, ready to use: the organization's credentials bound to a client.
public protocol TelephonyProvider: Sendable {
    /// Which provider this is.
    var name: ProviderName { get }
    /// The account's numbers callers may use as caller id, from the configuration.
    var configuredNumbers: [String] { get }
    /// Places an outbound call.
    func initiateCall(_ call: OutboundCall, logger: Logger) async throws -> PlacedCall
    /// Reads a call's current state from the provider.
    func callState(providerCallID: String, logger: Logger) async throws -> ProviderCallState
    /// Ends a call.
    func hangUp(providerCallID: String, logger: Logger) async throws
    /// Ends a call whose second id (`CallStatusEvent.providerLegID`) is known when `legID` is set.
    func hangUp(providerCallID: String, legID: String?, logger: Logger) async throws
    /// Reads a call's current state, with its second id when known.
    func callState(providerCallID: String, legID: String?, logger: Logger) async throws -> ProviderCallState
    /// Lists the account's phone numbers at the provider.
    func phoneNumbers(logger: Logger) async throws -> [ProviderPhoneNumber]
    /// Checks the credentials live against the provider.
    func checkCredentials(logger: Logger) async throws
    /// Verifies a webhook's signature with the current secret, or the previous one during a rotation grace window.
    func verifyWebhook(_ request: WebhookRequest, now: Date) throws(WebhookVerificationError)
    /// Reads a status callback into one normalized event.
    func parseStatusCallback(_ request: WebhookRequest) throws -> CallStatusEvent
    /// The markup that connects an answered call to the media stream at `streamURL`.
    func answerMarkup(streamURL: String) -> WebhookMarkup
    /// The markup that ends the call at once (for an answer request of no live call).
    func hangupMarkup() -> WebhookMarkup
    /// The provider's ids of the call an answer request is for (its call id and second id), as far as it names them.
    func answerCallIdentity(_ request: WebhookRequest) -> (callID: String?, legID: String?)
}

extension TelephonyProvider {
    /// Providers whose call id names the live call need no second id.
    public func hangUp(providerCallID: String, legID: String?, logger: Logger) async throws {
        try await hangUp(providerCallID: providerCallID, logger: logger)
    }

    public func callState(providerCallID: String, legID: String?, logger: Logger) async throws -> ProviderCallState {
        try await callState(providerCallID: providerCallID, logger: logger)
    }

    /// TwiML, TeXML and Plivo XML all end a call with `<Hangup/>`.
    public func hangupMarkup() -> WebhookMarkup {
        WebhookMarkup(
            contentType: answerMarkup(streamURL: "").contentType,
            body: #"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#)
    }

    /// The ids a status callback would carry: answer requests carry the same call parameters.
    public func answerCallIdentity(_ request: WebhookRequest) -> (callID: String?, legID: String?) {
        guard let event = try? parseStatusCallback(request) else { return (nil, nil) }
        return (event.providerCallID.isEmpty ? nil : event.providerCallID, event.providerLegID)
    }
}

extension TelephonyProvider {
    /// The error of a number listing that did not end within its page limit: every provider refuses to return a
    /// partial list, so a caller never mistakes the first pages for the whole account.
    static func unendingNumberList(_ provider: String, pages: Int) -> String {
        "\(provider)'s number list did not end within \(pages) pages; no partial list is returned"
    }
}
