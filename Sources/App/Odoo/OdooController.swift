import Foundation
import Hummingbird
import Persistence

/// `/api/v1/contacts/sync/odoo`: run a sync of the key's organization's Odoo partners now (admin), and
/// read the sync history with the write-back queue's state (admin or service).
struct OdooController {
    let service: OdooSyncService
    let outbox: OutboxStore

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("/contacts/sync/odoo", use: syncNow)
        group.get("/contacts/sync/odoo/runs", use: runs)
    }

    @Sendable func syncNow(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<RunResponse> {
        let key = try context.requireRole([.admin], to: "sync contacts from Odoo")
        guard let organizationID = key.organizationID else {
            throw APIError.forbidden("a platform key belongs to no organization; use an organization's admin key to sync contacts")
        }
        do {
            let run = try await service.sync(
                organizationID: organizationID, trigger: "manual", actor: context.actor, logger: context.logger)
            return EditedResponse(status: .ok, response: RunResponse(run))
        } catch let error as OdooSyncError {
            switch error {
            case .notConfigured:
                throw APIError.notFound("configuration_not_found", "ODOO_CONFIGURATION is not configured")
            case .alreadyRunning:
                throw APIError.conflict("sync_in_progress", error.description)
            case .odoo(let failure, _):
                throw Self.apiError(failure)
            }
        }
    }

    @Sendable func runs(_ request: Request, context: AppRequestContext) async throws -> RunsResponse {
        let key = try context.requireRole([.admin, .service], to: "read the Odoo sync history")
        guard let organizationID = key.organizationID else {
            throw APIError.forbidden("a platform key belongs to no organization; use an organization's key to read its sync history")
        }
        let limit: Int
        if let raw = request.uri.queryParameters.get("limit") {
            guard let value = Int(raw), (1...100).contains(value) else {
                throw APIError.badRequest("invalid_query", "'limit' must be a whole number from 1 to 100")
            }
            limit = value
        } else {
            limit = 20
        }
        let runs = try await service.store.runs(organizationID: organizationID, limit: limit, logger: context.logger)
        let summary = try await outbox.summary(
            organizationID: organizationID, kind: OdooSyncStore.writeBackKind, logger: context.logger)
        return RunsResponse(runs: runs.map(RunResponse.init), writeBack: WriteBackResponse(summary))
    }

    /// The API error for an Odoo failure: the Odoo's own error named, never a credential.
    static func apiError(_ error: OdooError) -> APIError {
        switch error {
        case .badCredentials:
            APIError.badRequest("invalid_credentials", error.description)
        case .server:
            APIError.badRequest("odoo_error", error.description)
        case .refused:
            APIError.unprocessable("odoo_target_refused", error.description)
        case .unreachable, .invalidResponse:
            APIError(status: .badGateway, code: "odoo_unreachable", message: error.description)
        }
    }

    /// One sync as the history shows it.
    struct RunResponse: ResponseEncodable {
        struct Problem: Codable {
            let partnerID: Int64
            let reason: String
            enum CodingKeys: String, CodingKey {
                case partnerID = "partner_id"
                case reason
            }
        }
        let id: String
        let trigger: String
        let status: String
        let created: Int
        let updated: Int
        let unchanged: Int
        let skipped: Int
        let failed: Int
        let skippedReasons: [String: Int]
        let problems: [Problem]
        let error: String?
        let since: String?
        let watermark: String?
        let startedAt: Date
        let finishedAt: Date?

        init(_ run: OdooSyncRun) {
            id = run.id.lowercasedString
            trigger = run.trigger
            status = run.status
            created = run.created
            updated = run.updated
            unchanged = run.unchanged
            skipped = run.skipped
            failed = run.failed
            skippedReasons = (try? JSONDecoder().decode([String: Int].self, from: Data(run.skippedReasons.utf8))) ?? [:]
            problems = (try? JSONDecoder().decode([Problem].self, from: Data(run.problems.utf8))) ?? []
            error = run.error
            since = run.sinceWriteDate
            watermark = run.watermark
            startedAt = run.startedAt
            finishedAt = run.finishedAt
        }

        enum CodingKeys: String, CodingKey {
            case id, trigger, status, created, updated, unchanged, skipped, failed, problems, error, since, watermark
            case skippedReasons = "skipped_reasons"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
        }
    }

    /// How outcome write-backs to Odoo stand.
    struct WriteBackResponse: Encodable {
        let pending: Int
        let delivered: Int
        let givenUp: Int
        let lastError: String?
        init(_ summary: OutboxSummary) {
            pending = summary.pending
            delivered = summary.delivered
            givenUp = summary.givenUp
            lastError = summary.lastError
        }
        enum CodingKeys: String, CodingKey {
            case pending, delivered
            case givenUp = "given_up"
            case lastError = "last_error"
        }
    }

    struct RunsResponse: ResponseEncodable {
        let runs: [RunResponse]
        let writeBack: WriteBackResponse
        enum CodingKeys: String, CodingKey {
            case runs
            case writeBack = "write_back"
        }
    }
}
