import Foundation

/// A tenant.
public struct Organization: Sendable, Equatable, Codable {
    public let id: UUID
    public let slug: String
    public let name: String
    public let createdAt: Date
    public let disabledAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, slug, name
        case createdAt = "created_at"
        case disabledAt = "disabled_at"
    }
}
