import Foundation
import Logging
import PostgresNIO

/// Loads many organizations at once — each with one API key and the same configuration documents,
/// sealed for each organization by the `SecretSealer` that `ConfigurationStore` uses — for
/// benchmarks and load tests.
///
/// A batch is one transaction of three multi-row `INSERT … SELECT FROM unnest(…)` statements, so
/// 100,000 organizations take seconds rather than 100,000 round trips. No audit events are
/// written: this is for a throwaway database, never a real one.
public struct BulkSeeder: Sendable {
    /// An organization to create.
    public struct NewOrganization: Sendable {
        public var slug: String
        public var name: String

        public init(slug: String, name: String) {
            self.slug = slug
            self.name = name
        }
    }

    /// A configuration document every organization of the batch gets.
    public struct Document: Sendable {
        /// The configuration key, e.g. `TWILIO_CONFIGURATION`.
        public var key: String
        /// The masked and the full document, as `ConfigurationStore.put` takes them.
        public var write: ConfigurationWrite

        public init(key: String, write: ConfigurationWrite) {
            self.key = key
            self.write = write
        }
    }

    /// An organization as created, with its API key (the only time the key's secret exists).
    public struct Seeded: Sendable {
        public let id: UUID
        public let slug: String
        public let apiKey: String
    }

    let client: PostgresClient
    let sealer: SecretSealer

    public init(client: PostgresClient, sealer: SecretSealer) {
        self.client = client
        self.sealer = sealer
    }

    /// Whether the database holds no organization yet (seeding refuses to mix with real data).
    public func databaseIsEmpty(logger: Logger) async throws -> Bool {
        let rows = try await client.query("SELECT NOT EXISTS (SELECT 1 FROM organizations)", logger: logger)
        for try await empty in rows.decode(Bool.self) { return empty }
        return false
    }

    /// Creates `organizations` in one transaction, each with one `role` key and every document of
    /// `documents`; returns them in the same order.
    public func insert(
        _ organizations: [NewOrganization], documents: [Document], role: APIKeyRole, logger: Logger
    ) async throws -> [Seeded] {
        guard role != .platform else {
            throw PersistenceError.conflict("seeded keys belong to an organization; a platform key cannot be seeded")
        }
        var ids: [UUID] = []
        var keyIDs: [UUID] = []
        var prefixes: [String] = []
        var hashes: [ByteBuffer] = []
        var seeded: [Seeded] = []
        var configurationOrganizations: [UUID] = []
        var configurationKeys: [String] = []
        var publicDocuments: [String] = []
        var sealedDocuments: [ByteBuffer] = []
        var masterKeyIDs: [String] = []
        for organization in organizations {
            let id = UUID()
            let token = APIKeyToken.generate()
            ids.append(id)
            keyIDs.append(UUID())
            prefixes.append(token.prefix)
            hashes.append(ByteBuffer(bytes: token.secretHash))
            seeded.append(Seeded(id: id, slug: organization.slug, apiKey: token.value))
            for document in documents {
                let sealed = try sealer.seal(document.write.document, organizationID: id, key: document.key)
                configurationOrganizations.append(id)
                configurationKeys.append(document.key)
                publicDocuments.append(document.write.publicDocument)
                sealedDocuments.append(ByteBuffer(data: sealed.bytes))
                masterKeyIDs.append(sealed.keyID)
            }
        }
        let slugs = organizations.map(\.slug)
        let names = organizations.map(\.name)
        let keyNames = organizations.map { "\($0.slug)-\(role.rawValue)" }
        try await client.inTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO organizations (id, slug, name)
                SELECT * FROM unnest(\(ids)::uuid[], \(slugs)::text[], \(names)::text[])
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, role)
                SELECT k.id, k.organization_id, k.name, k.prefix, k.secret_hash, \(role.rawValue)
                FROM unnest(\(keyIDs)::uuid[], \(ids)::uuid[], \(keyNames)::text[], \(prefixes)::text[],
                            \(hashes)::bytea[]) AS k(id, organization_id, name, prefix, secret_hash)
                """, logger: logger)
            if !configurationKeys.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO organization_configuration (organization_id, key, public, sealed, key_id)
                    SELECT c.organization_id, c.key, c.public::jsonb, c.sealed, c.key_id
                    FROM unnest(\(configurationOrganizations)::uuid[], \(configurationKeys)::text[],
                                \(publicDocuments)::text[], \(sealedDocuments)::bytea[], \(masterKeyIDs)::text[])
                         AS c(organization_id, key, public, sealed, key_id)
                    """, logger: logger)
            }
        }
        return seeded
    }

    /// A placed Twilio call the seeded webhooks report on (webhooks of unknown calls are stored nowhere).
    public struct PlacedCall: Sendable {
        public var organizationID: UUID
        public var providerCallID: String
        public var from: String
        public var to: String

        public init(organizationID: UUID, providerCallID: String, from: String, to: String) {
            self.organizationID = organizationID
            self.providerCallID = providerCallID
            self.from = from
            self.to = to
        }
    }

    /// Creates `calls` as queued Twilio calls, in one statement.
    public func insertCalls(_ calls: [PlacedCall], logger: Logger) async throws {
        guard !calls.isEmpty else { return }
        let ids = calls.map { _ in UUID() }
        try await client.query(
            """
            INSERT INTO calls (organization_id, id, provider, provider_call_id, status, raw_status, from_number, to_number)
            SELECT c.organization_id, c.id, 'twilio', c.provider_call_id, 'queued', 'queued', c.from_number, c.to_number
            FROM unnest(\(calls.map(\.organizationID))::uuid[], \(ids)::uuid[], \(calls.map(\.providerCallID))::text[],
                        \(calls.map(\.from))::text[], \(calls.map(\.to))::text[])
                 AS c(organization_id, id, provider_call_id, from_number, to_number)
            """, logger: logger)
    }
}
