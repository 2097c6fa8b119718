import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport

/// Test-only values; none of these is a real credential.
enum StoreFixtures {
    static let secret = "c0ffee00c0ffee00c0ffee00deadbeef"
    static let logger = TestDatabase.logger

    static func organization(_ client: PostgresClient, slug: String = "org-\(UUID().uuidString.prefix(8).lowercased())")
        async throws -> Organization
    {
        try await OrganizationStore(client: client).create(
            slug: slug, name: "Test \(slug)", actor: .commandLine, logger: logger)
    }

    static func write(_ secret: String = StoreFixtures.secret) -> ConfigurationWrite {
        ConfigurationWrite(
            publicDocument: #"{"auth_token":"****beef"}"#,
            document: Data(#"{"auth_token":"\#(secret)"}"#.utf8))
    }
}
