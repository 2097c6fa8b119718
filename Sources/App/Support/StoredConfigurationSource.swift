import Foundation
import Logging
import Persistence
import Providers

/// Feeds the provider factory from the sealed configuration documents in PostgreSQL.
struct StoredConfigurationSource: ProviderConfigurationSource {
    let store: ConfigurationStore
    let logger: Logger

    func telephonyConfiguration(for organizationID: UUID) async throws -> OrganizationTelephonyConfiguration {
        var configuration = OrganizationTelephonyConfiguration()
        for opened in try await store.openAll(organizationID: organizationID, logger: logger) {
            guard let key = ConfigurationKey(rawValue: opened.stored.key) else { continue }
            let current = try Self.object(opened.document)
            if key == .telephonyProvider {
                configuration.defaultProvider = current["provider"]?.stringValue.flatMap(ProviderName.init(rawValue:))
            } else if let provider = key.provider {
                configuration.providers[provider] = ProviderCredentials(
                    current: current, previous: try opened.previousDocument.map(Self.object),
                    previousValidUntil: opened.stored.previousValidUntil)
            }
        }
        return configuration
    }

    static func object(_ data: Data) throws -> [String: JSONValue] {
        try JSONDecoder().decode(JSONValue.self, from: data).objectValue ?? [:]
    }
}
