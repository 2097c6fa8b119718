import Foundation

/// A configuration document's row, without anything sealed.
public struct StoredConfiguration: Sendable, Equatable {
    public let organizationID: UUID
    public let key: String
    /// The masked document as JSON text: safe to show.
    public let publicDocument: String
    public let version: Int64
    public let createdAt: Date
    public let updatedAt: Date
    public let updatedBy: UUID?
    /// When the previous secret stops verifying webhooks; nil when there is none in grace.
    public let previousValidUntil: Date?
}

/// A configuration document opened for use by this process; never leaves it.
public struct OpenedConfiguration: Sendable {
    public let stored: StoredConfiguration
    /// The whole document as JSON bytes.
    public let document: Data
    /// The document before the last rotation, while its grace window lasts.
    public let previousDocument: Data?
}

/// What a write stores: the masked form to show and the whole document to seal.
public struct ConfigurationWrite: Sendable {
    public let publicDocument: String
    public let document: Data
    /// Non-secret facts for the audit log (e.g. which fields changed).
    public let auditDetails: [String: String]
    /// Drop a rotation's previous document: a plain replacement of a secret (say, a leaked one)
    /// must not leave the old one verifying webhooks.
    public let clearsPrevious: Bool

    public init(publicDocument: String, document: Data, auditDetails: [String: String] = [:], clearsPrevious: Bool = false) {
        self.publicDocument = publicDocument
        self.document = document
        self.auditDetails = auditDetails
        self.clearsPrevious = clearsPrevious
    }
}
