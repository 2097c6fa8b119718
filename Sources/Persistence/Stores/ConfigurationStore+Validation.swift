import Foundation
import Logging
import PostgresNIO

/// The last live credential check of a stored configuration.
public struct ConfigurationValidation: Sendable, Equatable {
    public let key: String
    /// When the check ran; nil when it never did.
    public let validatedAt: Date?
    /// The provider's verdict when it refused the credentials; nil when it accepted them.
    public let error: String?
}

extension ConfigurationStore {
    /// The last credential check of each of the organization's configurations.
    public func validations(organizationID: UUID, logger: Logger) async throws -> [ConfigurationValidation] {
        let rows = try await client.query(
            """
            SELECT key, validated_at, validation_error FROM organization_configuration
            WHERE organization_id = \(organizationID) ORDER BY key
            """, logger: logger)
        var result: [ConfigurationValidation] = []
        for try await (key, at, error) in rows.decode((String, Date?, String?).self) {
            result.append(ConfigurationValidation(key: key, validatedAt: at, error: error))
        }
        return result
    }
}
