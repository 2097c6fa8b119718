import Foundation

/// A call placed through a provider.
public struct Call: Sendable, Equatable {
    public let organizationID: UUID
    public let id: UUID
    public let provider: String
    public let providerCallID: String?
    /// `initiating` while the provider request is in flight, then the normalized call status.
    public let status: String
    public let rawStatus: String?
    public let direction: String
    public let fromNumber: String
    public let toNumber: String
    public let workflowID: String?
    public let workflowRunID: String?
    public let durationSeconds: Int?
    public let createdAt: Date
    public let updatedAt: Date
    public let answeredAt: Date?
    public let endedAt: Date?
}

/// What a new call row records before the provider is asked.
public struct NewCall: Sendable {
    public var provider: String
    public var fromNumber: String
    public var toNumber: String
    public var workflowID: String?
    public var workflowRunID: String?
    public var idempotencyKey: String?
    /// Fingerprint of the request, so a reused Idempotency-Key with another request is refused.
    public var requestHash: String
    public var createdBy: UUID?
    /// The cold-call session this call is the contact's leg of.
    public var conferenceID: UUID?
    /// The organization's call limits, checked with the insert (nil: none).
    public var limits: CallLimits?

    public init(
        provider: String, fromNumber: String, toNumber: String, workflowID: String?, workflowRunID: String?,
        idempotencyKey: String?, requestHash: String, createdBy: UUID?, conferenceID: UUID? = nil,
        limits: CallLimits? = nil
    ) {
        self.limits = limits
        self.conferenceID = conferenceID
        self.provider = provider
        self.fromNumber = fromNumber
        self.toNumber = toNumber
        self.workflowID = workflowID
        self.workflowRunID = workflowRunID
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.createdBy = createdBy
    }
}

/// How many calls an organization may start: checked and counted in PostgreSQL with the new
/// call's row, under a per-organization lock, so the limits hold across instances.
public struct CallLimits: Sendable, Equatable {
    /// Calls started in any 60 seconds.
    public var perMinute: Int
    /// Calls not yet ended (`initiating` included), among those started in the last `liveWindow`.
    public var concurrent: Int

    /// A call with no terminal status after this long lost its last webhook; it stops counting.
    public static let liveWindowSeconds = 4 * 3600

    public init(perMinute: Int, concurrent: Int) {
        self.perMinute = perMinute
        self.concurrent = concurrent
    }
}

/// A provider webhook reduced to what the store needs.
public struct RecordedEvent: Sendable {
    public var provider: String
    public var eventKey: String
    public var kind: String
    public var providerCallID: String?
    /// Normalized status, when the event changes one.
    public var status: String?
    public var rawStatus: String?
    public var durationSeconds: Int?
    public var payload: Data
    /// The provider's second id for the call (Plivo `CallUUID`, Telnyx `call_leg_id`), recorded on
    /// the call the first time an event carries it.
    public var providerLegID: String?

    public init(
        provider: String, eventKey: String, kind: String, providerCallID: String?, status: String?, rawStatus: String?,
        durationSeconds: Int?, payload: Data, providerLegID: String? = nil
    ) {
        self.providerLegID = providerLegID
        self.provider = provider
        self.eventKey = eventKey
        self.kind = kind
        self.providerCallID = providerCallID
        self.status = status
        self.rawStatus = rawStatus
        self.durationSeconds = durationSeconds
        self.payload = payload
    }
}
