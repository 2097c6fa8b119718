import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Persistence
import Providers

/// `/api/v1/telephony`: calls for the key's organization, through its resolved provider.
struct TelephonyController {
    let calls: CallStore
    let factory: ProviderFactory
    let settings: TelephonySettings
    /// The organization's CALL_POLICY: allowed destinations and call rates.
    let callPolicy: CallPolicyGate

    struct InitiateRequest: StrictRequestBody {
        static let fields: Set<String> = ["to_number", "from_number", "provider", "workflow_id", "workflow_run_id"]
        let toNumber: String
        let fromNumber: String?
        let provider: String?
        let workflowID: String?
        let workflowRunID: String?

        enum CodingKeys: String, CodingKey {
            case toNumber = "to_number"
            case fromNumber = "from_number"
            case provider
            case workflowID = "workflow_id"
            case workflowRunID = "workflow_run_id"
        }
    }

    /// A call as the API shows it.
    struct CallResponse: ResponseEncodable {
        let callID: String
        let provider: String
        let providerCallID: String?
        let status: String
        let fromNumber: String
        let toNumber: String
        let workflowID: String?
        let workflowRunID: String?
        let durationSeconds: Int?
        let createdAt: Date
        let updatedAt: Date
        let answeredAt: Date?
        let endedAt: Date?

        init(_ call: Call) {
            callID = call.id.lowercasedString
            provider = call.provider
            providerCallID = call.providerCallID
            status = call.status
            fromNumber = call.fromNumber
            toNumber = call.toNumber
            workflowID = call.workflowID
            workflowRunID = call.workflowRunID
            durationSeconds = call.durationSeconds
            createdAt = call.createdAt
            updatedAt = call.updatedAt
            answeredAt = call.answeredAt
            endedAt = call.endedAt
        }

        enum CodingKeys: String, CodingKey {
            case callID = "call_id"
            case provider
            case providerCallID = "provider_call_id"
            case status
            case fromNumber = "from_number"
            case toNumber = "to_number"
            case workflowID = "workflow_id"
            case workflowRunID = "workflow_run_id"
            case durationSeconds = "duration_seconds"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
            case answeredAt = "answered_at"
            case endedAt = "ended_at"
        }
    }

    struct ListResponse: ResponseEncodable {
        let calls: [CallResponse]
        let nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case calls
            case nextCursor = "next_cursor"
        }
    }

    struct PhoneNumbersResponse: ResponseEncodable {
        let provider: String
        let configuredNumbers: [String]
        let phoneNumbers: [ProviderPhoneNumber]
        enum CodingKeys: String, CodingKey {
            case provider
            case configuredNumbers = "configured_numbers"
            case phoneNumbers = "phone_numbers"
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("/telephony/initiate-call") { request, context in
            var request = request
            let organizationID = try Self.organizationID(context, action: "place calls")
            let idempotencyKey = try Self.idempotencyKey(request)
            let body = try await request.decodeStrict(InitiateRequest.self, context: context)
            let to = try Self.phoneNumber(body.toNumber, field: "to_number")
            let explicit = try body.provider.map(Self.providerName)
            for (value, field) in [(body.workflowID, "workflow_id"), (body.workflowRunID, "workflow_run_id")] {
                if let value, value.isEmpty || value.count > 200 {
                    throw APIError.badRequest("invalid_field", "'\(field)' must be 1-200 characters")
                }
            }
            let requestedFrom = try body.fromNumber.map { try Self.phoneNumber($0, field: "from_number") }
            let provider = try await resolve(organizationID, explicit: explicit)
            let from = requestedFrom ?? provider.configuredNumbers.first ?? ""
            guard provider.configuredNumbers.contains(from) else {
                throw APIError.badRequest(
                    "invalid_field", "'from_number' must be one of the organization's \(provider.name.rawValue) numbers")
            }
            let limits = try await callPolicy.limits(
                organizationID: organizationID, destination: to, ownNumbers: provider.configuredNumbers, logger: context.logger)
            let new = NewCall(
                provider: provider.name.rawValue, fromNumber: from, toNumber: to, workflowID: body.workflowID,
                workflowRunID: body.workflowRunID, idempotencyKey: idempotencyKey,
                // The request as sent, not what it resolved to: a retry after the default provider
                // (or its first number) changed is still the same request.
                requestHash: Self.fingerprint([
                    to, requestedFrom ?? "", explicit?.rawValue ?? "", body.workflowID ?? "", body.workflowRunID ?? "",
                ]),
                createdBy: context.apiKey?.id, limits: limits)
            let call: Call
            switch try await calls.begin(organizationID: organizationID, call: new, logger: context.logger) {
            case .replay(let earlier) where earlier.rawStatus == CallRowState.unconfirmed.rawValue:
                throw APIError(
                    status: .badGateway, code: "provider_unconfirmed",
                    message: "the provider did not confirm the call made with this Idempotency-Key (call \(earlier.id.lowercasedString)); check it at the provider before retrying with a new key")
            case .replay(let earlier):
                return EditedResponse(status: .created, headers: [.idempotentReplay: "true"], response: CallResponse(earlier))
            case .started(let started):
                call = started
            }
            let outbound = OutboundCall(
                to: to, from: from,
                // The call's own id finds it before its provider id is recorded; the workflow ids come from
                // the stored call, not from this URL (whose query Telnyx's and Vonage's signatures do not cover).
                answerURL: settings.webhookURL(provider.name, organizationID, "answer") + "?call_id=" + call.id.lowercasedString,
                statusCallbackURL: settings.webhookURL(provider.name, organizationID, "status"),
                clientState: call.id.lowercasedString, idempotencyKey: call.id.lowercasedString,
                mediaStreamURL: settings.streamURL(
                    organizationID: organizationID, workflowID: body.workflowID, workflowRunID: body.workflowRunID))
            let placed: PlacedCall
            do {
                placed = try await provider.initiateCall(outbound, logger: context.logger)
            } catch ProviderError.rejected(let status, let reason) {
                // A definite refusal: nothing was placed, so no row may claim otherwise.
                try await calls.abandon(organizationID: organizationID, id: call.id, logger: context.logger)
                throw Self.providerFailure(
                    ProviderError.rejected(status: status, reason: reason), provider: provider.name, logger: context.logger)
            } catch {
                // No answer we can trust: the call may exist. Keep the row (failed, unconfirmed) and
                // its Idempotency-Key, so a retry cannot place a second call.
                try await calls.markUnconfirmed(organizationID: organizationID, id: call.id, logger: context.logger)
                throw Self.providerFailure(error, provider: provider.name, logger: context.logger)
            }
            let stored = try await calls.markPlaced(
                organizationID: organizationID, id: call.id, providerCallID: placed.providerCallID,
                status: placed.status.rawValue, rawStatus: placed.rawStatus, logger: context.logger)
            return EditedResponse(status: .created, response: CallResponse(stored))
        }
        group.get("/telephony/calls") { request, context in
            let organizationID = try Self.organizationID(context, action: "read calls")
            let page = try Page(request: request)
            let status = request.uri.queryParameters.get("status")
            if let status, CallStatus(rawValue: status) == nil {
                throw APIError.badRequest(
                    "invalid_query", "'status' must be one of \(CallStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let cursor = try page.cursor.map(Self.decodeCursor)
            let found = try await calls.list(
                organizationID: organizationID, status: status, after: cursor, limit: page.limit + 1, logger: context.logger)
            let items = Array(found.prefix(page.limit))
            return ListResponse(
                calls: items.map(CallResponse.init),
                nextCursor: found.count > page.limit ? items.last.map(Self.encodeCursor) : nil)
        }
        group.get("/telephony/calls/:id") { _, context in
            let organizationID = try Self.organizationID(context, action: "read calls")
            return CallResponse(try await call(context, organizationID))
        }
        group.post("/telephony/calls/:id/hangup") { _, context in
            let organizationID = try Self.organizationID(context, action: "hang up calls")
            let call = try await call(context, organizationID)
            guard let providerCallID = call.providerCallID, let name = ProviderName(rawValue: call.provider) else {
                throw APIError.conflict("call_not_placed", "the call has not been placed yet")
            }
            if let status = CallStatus(rawValue: call.status), status.isTerminal {
                throw APIError.conflict("call_ended", "the call already ended (\(call.status))")
            }
            let provider = try await resolve(organizationID, explicit: name)
            let legID = try await calls.providerLegID(organizationID: organizationID, id: call.id, logger: context.logger)
            do {
                try await provider.hangUp(providerCallID: providerCallID, legID: legID, logger: context.logger)
            } catch {
                throw Self.providerFailure(error, provider: name, logger: context.logger)
            }
            // The status follows the provider's own callback, not this request.
            return EditedResponse(status: .accepted, response: CallResponse(call))
        }
        group.get("/telephony/phone-numbers") { request, context in
            let organizationID = try Self.organizationID(context, action: "read phone numbers")
            let explicit = try request.uri.queryParameters.get("provider").map(Self.providerName)
            let provider = try await resolve(organizationID, explicit: explicit)
            do {
                return PhoneNumbersResponse(
                    provider: provider.name.rawValue, configuredNumbers: provider.configuredNumbers,
                    phoneNumbers: try await provider.phoneNumbers(logger: context.logger))
            } catch {
                throw Self.providerFailure(error, provider: provider.name, logger: context.logger)
            }
        }
    }

    func call(_ context: AppRequestContext, _ organizationID: UUID) async throws -> Call {
        guard let id = UUID(uuidString: try context.pathParameter("id")),
            let call = try await calls.get(organizationID: organizationID, id: id, logger: context.logger),
            call.status != CallRowState.initiating.rawValue
        else {
            throw APIError.notFound("call_not_found", "no such call in this organization")
        }
        return call
    }

    func resolve(_ organizationID: UUID, explicit: ProviderName?) async throws -> any TelephonyProvider {
        do {
            return try await factory.provider(for: organizationID, explicit: explicit)
        } catch let error as ProviderResolutionError {
            throw APIError.unprocessable("provider_not_configured", error.description)
        } catch let error as ConfigurationValidationError {
            throw APIError.unprocessable("provider_not_configured", "the stored configuration is no longer valid: \(error)")
        }
    }

    /// Telephony acts for the key's own organization; a platform key has none.
    static func organizationID(_ context: AppRequestContext, action: String) throws(APIError) -> UUID {
        let key = try context.requireRole([.admin, .service], to: action)
        guard let organizationID = key.organizationID else {
            throw APIError.forbidden("a platform key belongs to no organization; use an organization's admin or service key to \(action)")
        }
        return organizationID
    }

    static func idempotencyKey(_ request: Request) throws(APIError) -> String? {
        guard let value = request.headers[.idempotencyKey] else { return nil }
        guard (1...200).contains(value.count), value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw APIError.badRequest("invalid_idempotency_key", "Idempotency-Key must be 1-200 visible ASCII characters")
        }
        return value
    }

    /// E.164: '+', a non-zero digit, then 6 to 14 digits.
    static func phoneNumber(_ value: String, field: String) throws(APIError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.dropFirst()
        guard trimmed.hasPrefix("+"), (7...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits.first != "0"
        else {
            throw APIError.badRequest("invalid_phone_number", "'\(field)' must be an E.164 number like +14155550100")
        }
        return trimmed
    }

    static func providerName(_ value: String) throws(APIError) -> ProviderName {
        guard let name = ProviderName(rawValue: value) else {
            throw APIError.badRequest("invalid_field", "'provider' must be one of twilio, telnyx, vonage, plivo")
        }
        return name
    }

    static func fingerprint(_ parts: [String]) -> String {
        SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A provider failure as the API shows it: 502 with the provider's own reason.
    static func providerFailure(_ error: any Error, provider: ProviderName, logger: Logger) -> any Error {
        if error is CancellationError { return error }
        let reason = (error as? ProviderError)?.description ?? "the request could not be completed (\(type(of: error)))"
        logger.warning("provider request failed", metadata: ["provider": "\(provider.rawValue)", "error": "\(reason)"])
        return APIError(status: .badGateway, code: "provider_error", message: "\(provider.rawValue): \(reason)")
    }

    static func encodeCursor(_ call: Call) -> String {
        "\(Int64((call.createdAt.timeIntervalSince1970 * 1_000_000).rounded()))_\(call.id.lowercasedString)"
    }

    static func decodeCursor(_ cursor: String) throws(APIError) -> (Date, UUID) {
        let parts = cursor.split(separator: "_")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            throw APIError.badRequest("invalid_query", "'cursor' must be a next_cursor from a previous page")
        }
        return (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
    }
}

/// Public addresses Switchboard gives providers, and the media-stream token key.
struct TelephonySettings: Sendable {
    let publicURL: String
    let mediaStreamURL: String
    let streamTokens: TokenSigner

    init(publicURL: String, mediaStreamURL: String?, streamTokens: TokenSigner) {
        self.publicURL = publicURL
        self.mediaStreamURL =
            mediaStreamURL
            ?? (publicURL.replacingOccurrences(of: "https://", with: "wss://").replacingOccurrences(of: "http://", with: "ws://")
                + "/api/v1/telephony/media-stream")
        self.streamTokens = streamTokens
    }

    /// `{public}/api/v1/telephony/webhooks/{provider}/{organization}/{kind}[?workflow ids]`.
    func webhookURL(
        _ provider: ProviderName, _ organizationID: UUID, _ kind: String, workflowID: String? = nil, workflowRunID: String? = nil
    ) -> String {
        var url = "\(publicURL)/api/v1/telephony/webhooks/\(provider.rawValue)/\(organizationID.lowercasedString)/\(kind)"
        let query = [("workflow_id", workflowID), ("workflow_run_id", workflowRunID)].compactMap { name, value in
            value.map { "\(name)=\(Self.escape($0))" }
        }
        if !query.isEmpty { url += "?" + query.joined(separator: "&") }
        return url
    }

    /// The stream URL the answer markup points at, carrying the ids, an expiry and their token.
    func streamURL(organizationID: UUID, workflowID: String?, workflowRunID: String?, now: Date = Date()) -> String {
        let expires = Int(now.timeIntervalSince1970 + TokenSigner.streamTokenLifetime)
        var query = ["organization_id=\(organizationID.lowercasedString)"]
        if let workflowID { query.append("workflow_id=\(Self.escape(workflowID))") }
        if let workflowRunID { query.append("workflow_run_id=\(Self.escape(workflowRunID))") }
        query.append("expires=\(expires)")
        query.append(
            "token=\(streamTokens.streamToken(organizationID: organizationID, workflowID: workflowID, workflowRunID: workflowRunID, expires: expires))")
        return mediaStreamURL + (mediaStreamURL.contains("?") ? "&" : "?") + query.joined(separator: "&")
    }

    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplay = HTTPField.Name("Idempotent-Replayed")!
}
