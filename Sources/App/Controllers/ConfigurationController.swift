import Foundation
import Hummingbird
import Persistence
import Providers

/// `/api/v1/organizations/{org}/configuration`: provider credentials, validated, masked in every
/// response, sealed at rest, versioned with `If-Match`, and rotated with a grace window.
struct ConfigurationController {
    let organizations: OrganizationStore
    let configurations: ConfigurationStore
    let factory: ProviderFactory
    /// Checks `ODOO_CONFIGURATION` on `validate`.
    let odoo: OdooSyncService

    static let defaultGrace: TimeInterval = 24 * 3600
    static let maxGrace: TimeInterval = 7 * 24 * 3600

    struct PreviousSecret: Encodable {
        let inGrace: Bool
        let validUntil: Date?
        enum CodingKeys: String, CodingKey {
            case inGrace = "in_grace"
            case validUntil = "valid_until"
        }
    }

    /// One document as shown: masked.
    struct DocumentResponse: ResponseEncodable {
        let key: String
        let version: Int64
        let document: JSONValue
        let createdAt: Date
        let updatedAt: Date
        let updatedBy: String?
        let previousSecret: PreviousSecret

        init(_ stored: StoredConfiguration) throws {
            key = stored.key
            version = stored.version
            document = try JSONCoding.decoder.decode(JSONValue.self, from: Data(stored.publicDocument.utf8))
            createdAt = stored.createdAt
            updatedAt = stored.updatedAt
            updatedBy = stored.updatedBy?.lowercasedString
            previousSecret = PreviousSecret(
                inGrace: stored.previousValidUntil != nil, validUntil: stored.previousValidUntil)
        }

        enum CodingKeys: String, CodingKey {
            case key, version, document
            case createdAt = "created_at"
            case updatedAt = "updated_at"
            case updatedBy = "updated_by"
            case previousSecret = "previous_secret"
        }

        var etag: String { "\"\(version)\"" }
    }

    struct ListResponse: ResponseEncodable {
        let configurations: [DocumentResponse]
        let availableKeys: [String]
        enum CodingKeys: String, CodingKey {
            case configurations
            case availableKeys = "available_keys"
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("/organizations/:org/configuration") { _, context in
            _ = try context.requireRole([.admin, .service], to: "read configuration")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let stored = try await configurations.list(organizationID: organization.id, logger: context.logger)
            return ListResponse(
                configurations: try stored.map(DocumentResponse.init),
                availableKeys: ConfigurationKey.allCases.map(\.rawValue))
        }
        group.get("/organizations/:org/configuration/:key") { _, context in
            _ = try context.requireRole([.admin, .service], to: "read configuration")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let key = try Self.knownKey(context.pathParameter("key"), status: .notFound)
            guard
                let stored = try await configurations.get(
                    organizationID: organization.id, key: key.rawValue, logger: context.logger)
            else {
                throw APIError.notFound("configuration_not_found", "\(key.rawValue) is not configured")
            }
            return try Self.respond(DocumentResponse(stored), status: .ok)
        }
        group.put("/organizations/:org/configuration/:key") { request, context in
            var request = request
            _ = try context.requireRole([.admin], to: "change configuration")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let key = try Self.knownKey(context.pathParameter("key"), status: .unprocessableContent)
            let ifMatch = try request.ifMatchVersion()
            let incoming = try await request.jsonObject(context: context)
            let schema = ConfigurationSchema.forKey(key)
            // The provider TELEPHONY_PROVIDER chooses must be stored: checked inside the write's
            // transaction, so a concurrent delete of that provider's document cannot slip between.
            let required = try key == .telephonyProvider ? Self.chosenProvider(schema.validate(incoming)) : nil
            let stored: StoredConfiguration
            do {
                stored = try await configurations.put(
                    organizationID: organization.id, key: key.rawValue, ifMatch: ifMatch, ifMatchRequired: true,
                    requiring: required?.configurationKey.rawValue, actor: context.actor, logger: context.logger
                ) { currentData in
                    let current = try currentData.map(Self.decodeDocument)
                    let restored = schema.restoringMaskedSecrets(in: incoming, from: current)
                    let document = try schema.validate(restored)
                    let changed = Self.changedFields(from: current, to: document)
                    return try Self.write(
                        document, schema: schema, auditDetails: ["fields_changed": changed.joined(separator: ",")],
                        clearsPrevious: !schema.secretFieldNames.isDisjoint(with: changed))
                }
            } catch let error as ConfigurationStore.RequiredConfigurationMissing {
                guard let required else { throw error }
                throw Self.notConfigured(required)
            }
            factory.invalidate(organizationID: organization.id)
            return try Self.respond(DocumentResponse(stored), status: stored.version == 1 ? .created : .ok)
        }
        group.delete("/organizations/:org/configuration/:key") { request, context in
            _ = try context.requireRole([.admin], to: "change configuration")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let key = try Self.knownKey(context.pathParameter("key"), status: .notFound)
            let ifMatch = try request.ifMatchVersion()
            // The default provider's document cannot go: checked inside the delete's transaction.
            let reference = key.provider.map { provider in
                ConfigurationStore.Reference(key: ConfigurationKey.telephonyProvider.rawValue) { document in
                    (try? Self.chosenProvider(Self.decodeDocument(document))) == provider
                }
            }
            do {
                try await configurations.delete(
                    organizationID: organization.id, key: key.rawValue, ifMatch: ifMatch, ifMatchRequired: true,
                    unless: reference, actor: context.actor, logger: context.logger)
            } catch is ConfigurationStore.ConfigurationInUse {
                throw APIError.conflict(
                    "provider_in_use",
                    "\(key.rawValue) is the organization's TELEPHONY_PROVIDER; choose another provider or delete TELEPHONY_PROVIDER first")
            }
            factory.invalidate(organizationID: organization.id)
            return Response(status: .noContent)
        }
        group.post("/organizations/:org/configuration/:key/rotate") { request, context in
            var request = request
            _ = try context.requireRole([.admin], to: "rotate credentials")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let key = try Self.knownKey(context.pathParameter("key"), status: .notFound)
            let schema = ConfigurationSchema.forKey(key)
            guard !schema.secretFieldNames.isEmpty else {
                throw APIError.unprocessable("nothing_to_rotate", "\(key.rawValue) holds no secrets")
            }
            let ifMatch = try request.ifMatchVersion()
            var secrets = try await request.jsonObject(context: context)
            let grace = try Self.grace(from: secrets.removeValue(forKey: "grace_period_seconds"))
            let stored = try await configurations.rotate(
                organizationID: organization.id, key: key.rawValue, ifMatch: ifMatch, grace: grace,
                actor: context.actor, logger: context.logger
            ) { currentData in
                let rotated = try schema.applyingRotation(secrets, to: Self.decodeDocument(currentData))
                return try Self.write(rotated, schema: schema, auditDetails: [
                    "fields_rotated": secrets.keys.sorted().joined(separator: ",")
                ])
            }
            factory.invalidate(organizationID: organization.id)
            return try Self.respond(DocumentResponse(stored), status: .ok)
        }
        group.post("/organizations/:org/configuration/:key/validate") { request, context -> Response in
            _ = try context.requireRole([.admin], to: "validate credentials")
            let organization = try await context.organization(context.pathParameter("org"), store: organizations)
            let key = try Self.knownKey(context.pathParameter("key"), status: .notFound)
            if key == .odoo {
                return try await validateOdoo(organizationID: organization.id, context: context)
                    .response(from: request, context: context)
            }
            guard let name = key.provider else {
                throw APIError.unprocessable("nothing_to_validate", "\(key.rawValue) holds no provider credentials")
            }
            guard
                try await configurations.get(organizationID: organization.id, key: key.rawValue, logger: context.logger)
                    != nil
            else {
                throw APIError.notFound("configuration_not_found", "\(key.rawValue) is not configured")
            }
            let provider = try await factory.provider(for: organization.id, named: name)
            var failure: ProviderError?
            do {
                try await provider.checkCredentials(logger: context.logger)
            } catch let error as ProviderError {
                failure = error
            }
            let checkedAt = try await configurations.recordValidation(
                organizationID: organization.id, key: key.rawValue, error: failure?.description, actor: context.actor,
                logger: context.logger)
            switch failure {
            case nil:
                return try ValidationResponse(key: key.rawValue, valid: true, checkedAt: checkedAt ?? Date(), reason: nil)
                    .response(from: request, context: context)
            case .rejected(_, let reason):
                throw APIError.badRequest("invalid_credentials", "\(name.rawValue) refused the credentials: \(reason)")
            case .some(let error):
                throw APIError(status: .badGateway, code: "provider_error", message: "\(name.rawValue): \(error.description)")
            }
        }
    }

    /// `validate` of `ODOO_CONFIGURATION`: logs in, and reports Odoo's version and how many partners the domain matches.
    private func validateOdoo(organizationID: UUID, context: AppRequestContext) async throws -> OdooValidationResponse {
        let key = ConfigurationKey.odoo.rawValue
        guard let configuration = try await odoo.configuration(organizationID: organizationID, logger: context.logger) else {
            throw APIError.notFound("configuration_not_found", "\(key) is not configured")
        }
        do {
            let (version, partners) = try await odoo.check(configuration)
            let checkedAt = try await configurations.recordValidation(
                organizationID: organizationID, key: key, error: nil, actor: context.actor, logger: context.logger)
            return OdooValidationResponse(
                key: key, valid: true, checkedAt: checkedAt ?? Date(), odooVersion: version, partnerCount: partners)
        } catch let error as OdooError {
            _ = try await configurations.recordValidation(
                organizationID: organizationID, key: key, error: error.description, actor: context.actor,
                logger: context.logger)
            throw OdooController.apiError(error)
        }
    }

    struct OdooValidationResponse: ResponseEncodable {
        let key: String
        let valid: Bool
        let checkedAt: Date
        let odooVersion: String
        let partnerCount: Int
        enum CodingKeys: String, CodingKey {
            case key, valid
            case checkedAt = "checked_at"
            case odooVersion = "odoo_version"
            case partnerCount = "partner_count"
        }
    }

    struct ValidationResponse: ResponseEncodable {
        let key: String
        let valid: Bool
        let checkedAt: Date
        let reason: String?
        enum CodingKeys: String, CodingKey {
            case key, valid, reason
            case checkedAt = "checked_at"
        }
    }

    /// The provider a TELEPHONY_PROVIDER document chooses.
    static func chosenProvider(_ document: [String: JSONValue]) -> ProviderName? {
        document["provider"]?.stringValue.flatMap(ProviderName.init(rawValue:))
    }

    /// 422 when the chosen provider has no stored configuration (the factory could not use it).
    static func notConfigured(_ provider: ProviderName) -> APIError {
        APIError.unprocessable(
            "invalid_configuration", "the document is invalid: fix each listed field",
            fields: [
                FieldError(
                    field: "provider",
                    problem: "\(provider.rawValue) is not configured; store \(provider.configurationKey.rawValue) first")
            ])
    }

    static func knownKey(_ raw: String, status: HTTPResponse.Status) throws(APIError) -> ConfigurationKey {
        guard let key = ConfigurationKey(rawValue: raw) else {
            let known = ConfigurationKey.allCases.map(\.rawValue).joined(separator: ", ")
            if status == .unprocessableContent {
                throw APIError.unprocessable(
                    "unknown_configuration_key", "'\(raw)' is not a configuration key",
                    fields: [FieldError(field: "key", problem: "must be one of \(known)")])
            }
            throw APIError.notFound("unknown_configuration_key", "'\(raw)' is not a configuration key; one of \(known)")
        }
        return key
    }

    static func grace(from value: JSONValue?) throws(APIError) -> TimeInterval {
        guard let value else { return defaultGrace }
        guard let seconds = value.doubleValue, seconds.rounded() == seconds, (0...maxGrace).contains(seconds) else {
            throw APIError.unprocessable(
                "invalid_configuration", "the rotation request is invalid",
                fields: [
                    FieldError(
                        field: "grace_period_seconds", problem: "must be a whole number of seconds from 0 to \(Int(maxGrace))")
                ])
        }
        return seconds
    }

    static func decodeDocument(_ data: Data) throws -> [String: JSONValue] {
        guard case .object(let object) = try JSONCoding.decoder.decode(JSONValue.self, from: data) else {
            throw APIError.internalError
        }
        return object
    }

    static func write(
        _ document: [String: JSONValue], schema: ConfigurationSchema, auditDetails: [String: String],
        clearsPrevious: Bool = false
    ) throws -> ConfigurationWrite {
        ConfigurationWrite(
            publicDocument: String(decoding: try JSONCoding.encoder.encode(JSONValue.object(schema.masked(document))), as: UTF8.self),
            document: try JSONCoding.encoder.encode(JSONValue.object(document)),
            auditDetails: auditDetails, clearsPrevious: clearsPrevious)
    }

    /// Names of fields added, removed or changed (names only: never values).
    static func changedFields(from old: [String: JSONValue]?, to new: [String: JSONValue]) -> [String] {
        let names = Set(new.keys).union(old?.keys ?? [:].keys)
        return names.filter { old?[$0] != new[$0] }.sorted()
    }

    static func respond(_ body: DocumentResponse, status: HTTPResponse.Status) throws -> EditedResponse<DocumentResponse> {
        EditedResponse(status: status, headers: [.eTag: body.etag], response: body)
    }
}
