import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

/// The telephony routes' input checks and tenancy, which refuse before any provider is asked.
@Suite struct TelephonyRoutesTests {
    func configureTwilio(_ harness: AppHarness, _ client: some TestClientProtocol) async throws {
        let put = try await client.send(
            .put, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION", key: harness.acmeAdmin,
            json: AppHarness.twilioDocument)
        #expect(put.status == .created)
    }

    @Test(arguments: [
        (#"{"to_number":"4155550123"}"#, 400, "invalid_phone_number"),
        (#"{"to_number":"+0155550123"}"#, 400, "invalid_phone_number"),
        (#"{"to_number":"+1415555012345678"}"#, 400, "invalid_phone_number"),
        (#"{"to_number":"+14155550123","from_number":"+14155550999"}"#, 400, "invalid_field"),
        (#"{"to_number":"+14155550123","provider":"skype"}"#, 400, "invalid_field"),
        (#"{"to_number":"+14155550123","provider":"telnyx"}"#, 422, "provider_not_configured"),
        (#"{"to_number":"+14155550123","region":"eu"}"#, 400, "unknown_field"),
        (#"{"to_number":14155550123}"#, 400, "invalid_field"),
        (#"{"to_number":"+14155550123","workflow_id":""}"#, 400, "invalid_field"),
    ])
    func badCallRequestsAreRefusedAndRecordNothing(_ body: String, _ status: Int, _ code: String) async throws {
        try await AppHarness.run { harness, client in
            try await configureTwilio(harness, client)
            let response = try await client.send(.post, "/api/v1/telephony/initiate-call", key: harness.acmeService, raw: body)
            #expect(response.status.code == status, "\(response.text)")
            #expect(try response.errorCode() == code)
            let rows = try await harness.postgres.query("SELECT count(*) FROM calls", logger: TestDatabase.logger)
            for try await count in rows.decode(Int.self) { #expect(count == 0) }
        }
    }

    @Test func anOrganizationWithNoProviderGetsA422NamingWhatToStore() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/telephony/initiate-call", key: harness.acmeService, json: ["to_number": .string("+14155550123")])
            #expect(response.status == .unprocessableContent)
            #expect(response.text.contains("TWILIO_CONFIGURATION"))
        }
    }

    @Test func aPlatformKeyHasNoOrganizationToCallFor() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/telephony/initiate-call", key: harness.platformKey, json: ["to_number": .string("+14155550123")])
            #expect(response.status == .forbidden)
        }
    }

    @Test func anIdempotencyKeyMustBeShortAndVisible() async throws {
        try await AppHarness.run { harness, client in
            try await configureTwilio(harness, client)
            let response = try await client.send(
                .post, "/api/v1/telephony/initiate-call", key: harness.acmeService,
                json: ["to_number": .string("+14155550123")],
                headers: [HTTPField.Name("Idempotency-Key")!: String(repeating: "k", count: 201)])
            #expect(response.status == .badRequest)
        }
    }

    /// Calls recorded directly, so listing and tenancy are tested without a provider.
    func seedCalls(_ harness: AppHarness, organizationID: UUID, statuses: [String]) async throws -> [UUID] {
        var ids: [UUID] = []
        for (index, status) in statuses.enumerated() {
            let begin = try await harness.dependencies.calls.begin(
                organizationID: organizationID,
                call: NewCall(
                    provider: "twilio", fromNumber: "+14155550100", toNumber: "+1415555\(String(format: "%04d", index))",
                    workflowID: nil, workflowRunID: nil, idempotencyKey: nil, requestHash: "h", createdBy: nil),
                logger: TestDatabase.logger)
            guard case .started(let call) = begin else { throw CancellationError() }
            _ = try await harness.dependencies.calls.markPlaced(
                organizationID: organizationID, id: call.id, providerCallID: "CA\(UUID().uuidString.prefix(8))",
                status: status, rawStatus: status, logger: TestDatabase.logger)
            ids.append(call.id)
        }
        return ids
    }

    @Test func callsAreListedNewestFirstByCursorAndFilteredByStatus() async throws {
        try await AppHarness.run { harness, client in
            let ids = try await seedCalls(
                harness, organizationID: harness.acme.id, statuses: ["queued", "completed", "queued", "busy", "queued"])
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.send(
                    .get, "/api/v1/telephony/calls?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), key: harness.acmeService
                ).object()
                seen += ((page["calls"] as? [[String: Any]]) ?? []).compactMap { $0["call_id"] as? String }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == ids.reversed().map(\.lowercasedString))
            let queued = try await client.send(.get, "/api/v1/telephony/calls?status=queued", key: harness.acmeService).object()
            #expect((queued["calls"] as? [Any])?.count == 3)
            let bad = try await client.send(.get, "/api/v1/telephony/calls?status=sleeping", key: harness.acmeService)
            #expect(bad.status == .badRequest)
        }
    }

    @Test func anotherTenantsCallIsNotFoundAndCannotBeHungUp() async throws {
        try await AppHarness.run { harness, client in
            let ids = try await seedCalls(harness, organizationID: harness.acme.id, statuses: ["in-progress"])
            let read = try await client.send(.get, "/api/v1/telephony/calls/\(ids[0])", key: harness.globexAdmin)
            #expect(read.status == .notFound)
            let hangup = try await client.send(.post, "/api/v1/telephony/calls/\(ids[0])/hangup", key: harness.globexAdmin)
            #expect(hangup.status == .notFound)
            let list = try await client.send(.get, "/api/v1/telephony/calls", key: harness.globexAdmin).object()
            #expect((list["calls"] as? [Any])?.isEmpty == true)
        }
    }
}
