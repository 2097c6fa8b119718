import Foundation
import Logging
import Persistence
import Providers

/// Why a sync did not run or did not finish.
enum OdooSyncError: Error, CustomStringConvertible {
    /// The organization has no `ODOO_CONFIGURATION`.
    case notConfigured
    /// Another sync of the organization is running (on any instance).
    case alreadyRunning
    /// Odoo refused or failed; the run is recorded as failed with this reason.
    case odoo(OdooError, run: OdooSyncRun)

    var description: String {
        switch self {
        case .notConfigured: "ODOO_CONFIGURATION is not configured"
        case .alreadyRunning: "an Odoo sync of this organization is already running; try again when it has finished"
        case .odoo(let error, _): error.description
        }
    }
}

/// Imports an organization's Odoo partners as contacts: pages through `res.partner` with
/// `search_read` (ordered by id, keyset on id, `limit` per page), only partners written after the last
/// succeeded run's `write_date` watermark, normalises phones to E.164 like the CSV import, and merges
/// by partner id first and phone second (``OdooSyncStore/merge(organizationID:page:logger:)``).
struct OdooSyncService: Sendable {
    let configurations: ConfigurationStore
    let store: OdooSyncStore
    let policy: OutboundPolicy
    /// Partners per `search_read` page.
    var pageSize = 1_000

    /// The fields read from each partner.
    static let fields: [JSONValue] = ["name", "phone", "mobile", "email", "company_name", "parent_id", "write_date"]

    /// The organization's `ODOO_CONFIGURATION`; nil when it has none.
    func configuration(organizationID: UUID, logger: Logger) async throws -> OdooConfiguration? {
        guard
            let opened = try await configurations.open(
                organizationID: organizationID, key: ConfigurationKey.odoo.rawValue, logger: logger)
        else { return nil }
        let document = try StoredConfigurationSource.object(opened.document)
        return OdooConfiguration(document)
    }

    /// `validate`: logs in and reports the server version and how many partners the domain matches.
    func check(_ configuration: OdooConfiguration) async throws -> (version: String, partners: Int) {
        try await OdooClient.session(configuration, policy: policy) { client in
            let version = try await client.version()
            let uid = try await client.authenticate()
            let count = try await client.execute(
                uid: uid, model: "res.partner", method: "search_count", args: [.array(configuration.domain)])
            guard let partners = count.doubleValue else { throw OdooError.invalidResponse("search_count is not a number") }
            return (version, Int(partners))
        }
    }

    /// Runs one sync now, holding the organization's sync lock; records it in the history.
    func sync(organizationID: UUID, trigger: String, actor: Actor?, logger: Logger) async throws -> OdooSyncRun {
        guard let configuration = try await configuration(organizationID: organizationID, logger: logger) else {
            throw OdooSyncError.notConfigured
        }
        let outcome = try await store.withSyncLock(organizationID: organizationID, logger: logger) {
            () async throws -> Result<OdooSyncRun, OdooSyncError> in
            // Holding the lock, no other sync of the organization is running: a "running" row is one a dead process left.
            try await store.failAbandonedRuns(organizationID: organizationID, logger: logger)
            let since = try await store.lastWatermark(organizationID: organizationID, logger: logger)
            let runID = try await store.startRun(
                organizationID: organizationID, trigger: trigger, since: since, startedBy: actor?.keyID, logger: logger)
            var totals = OdooSyncTotals()
            totals.watermark = since
            do {
                try await pull(configuration, organizationID: organizationID, since: since, totals: &totals, logger: logger)
            } catch let error as OdooError {
                let run = try await store.finishRun(
                    organizationID: organizationID, id: runID, totals: totals, error: error.description, audit: actor,
                    logger: logger)
                return Result<OdooSyncRun, OdooSyncError>.failure(.odoo(error, run: run))
            } catch {
                _ = try? await store.finishRun(
                    organizationID: organizationID, id: runID, totals: totals, error: "the sync failed inside Switchboard",
                    audit: actor, logger: logger)
                throw error
            }
            let run = try await store.finishRun(
                organizationID: organizationID, id: runID, totals: totals, error: nil, audit: actor, logger: logger)
            logger.info(
                "odoo sync finished",
                metadata: [
                    "organization": "\(organizationID)", "created": "\(run.created)", "updated": "\(run.updated)",
                    "skipped": "\(run.skipped)", "failed": "\(run.failed)",
                ])
            return .success(run)
        }
        guard let outcome else { throw OdooSyncError.alreadyRunning }
        return try outcome.get()
    }

    private func pull(
        _ configuration: OdooConfiguration, organizationID: UUID, since: String?, totals: inout OdooSyncTotals,
        logger: Logger
    ) async throws {
        var collected = totals
        defer { totals = collected }
        try await OdooClient.session(configuration, policy: policy) { client in
            let uid = try await client.authenticate()
            var lastID = 0
            var newest = since
            while true {
                var domain = configuration.domain
                if let since { domain.append(["write_date", ">", .string(since)]) }
                domain.append(["id", ">", .number(Double(lastID))])
                let result = try await client.execute(
                    uid: uid, model: "res.partner", method: "search_read", args: [.array(domain)],
                    kwargs: [
                        "fields": .array(Self.fields), "limit": .number(Double(pageSize)), "offset": 0, "order": "id asc",
                    ])
                guard let records = result.arrayValue else { throw OdooError.invalidResponse("search_read is not a list") }
                var page: [SyncedPartner] = []
                page.reserveCapacity(records.count)
                for record in records {
                    guard let fields = record.objectValue, let id = fields["id"]?.doubleValue, id > Double(lastID) else {
                        throw OdooError.invalidResponse("a partner without an increasing id")
                    }
                    lastID = Int(id)
                    if let written = fields["write_date"]?.stringValue, written > (newest ?? "") { newest = written }
                    switch Self.partner(fields, id: Int64(id)) {
                    case .success(let partner): page.append(partner)
                    case .failure(let skip): collected.skip(Int64(id), reason: skip.reason)
                    }
                }
                if !page.isEmpty { try await merge(page, organizationID: organizationID, into: &collected, logger: logger) }
                collected.watermark = newest
                if records.count < pageSize { break }
            }
        }
    }

    /// Merges a page; if the page as a whole cannot be written (a contact changed under it), each
    /// partner is tried alone and the ones that still fail are counted as failed.
    private func merge(_ page: [SyncedPartner], organizationID: UUID, into totals: inout OdooSyncTotals, logger: Logger)
        async throws
    {
        do {
            add(try await store.merge(organizationID: organizationID, page: page, logger: logger), to: &totals)
        } catch {
            logger.warning("odoo sync page failed; retrying partner by partner", metadata: ["error": "\(type(of: error))"])
            for partner in page {
                do {
                    add(try await store.merge(organizationID: organizationID, page: [partner], logger: logger), to: &totals)
                } catch {
                    totals.skip(partner.partnerID, reason: "could not be stored", failed: true)
                }
            }
        }
    }

    private func add(_ outcome: SyncPageOutcome, to totals: inout OdooSyncTotals) {
        totals.created += outcome.created
        totals.updated += outcome.updated
        totals.unchanged += outcome.unchanged
        for (partnerID, reason) in outcome.skipped { totals.skip(partnerID, reason: reason) }
    }

    struct Skip: Error {
        let reason: String
    }

    /// A partner as a contact: Odoo's `false` for an empty field is absent; the phone (else the mobile)
    /// in E.164, national numbers read as US ones, as the CSV import does by default.
    static func partner(_ fields: [String: JSONValue], id: Int64) -> Result<SyncedPartner, Skip> {
        func text(_ name: String, limit: Int) -> String? {
            guard let value = fields[name]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty
            else { return nil }
            return value.count > limit ? String(value.prefix(limit)) : value
        }
        let raw = text("phone", limit: 64) ?? text("mobile", limit: 64)
        guard let raw else { return .failure(Skip(reason: "no phone number")) }
        let phone: String
        do {
            phone = try PhoneNumberNormalizer.normalize(raw, defaultCountry: PhoneNumberNormalizer.defaultCountry)
        } catch {
            return .failure(Skip(reason: "invalid phone number: \(error.description)"))
        }
        let parent = fields["parent_id"]?.arrayValue.flatMap { $0.count > 1 ? $0[1].stringValue : nil }
        let company = text("company_name", limit: 200) ?? parent.map { String($0.prefix(200)) }
        return .success(SyncedPartner(partnerID: id, name: text("name", limit: 200), phoneE164: phone, company: company))
    }

    /// Syncs every configured organization whose last run started at least `interval` ago; a sync
    /// another instance holds is skipped. Failures are recorded in each organization's history.
    func syncDueOrganizations(interval: Duration, logger: Logger) async throws {
        let seconds = TimeInterval(interval.components.seconds)
        for organizationID in try await store.configuredOrganizations(logger: logger) {
            if let last = try await store.lastRunStart(organizationID: organizationID, logger: logger),
                Date().timeIntervalSince(last) < seconds - 1
            {
                continue
            }
            do {
                _ = try await sync(organizationID: organizationID, trigger: "periodic", actor: nil, logger: logger)
            } catch let error as OdooSyncError {
                logger.notice(
                    "periodic odoo sync did not complete", metadata: ["organization": "\(organizationID)", "reason": "\(error)"])
            }
        }
    }
}
