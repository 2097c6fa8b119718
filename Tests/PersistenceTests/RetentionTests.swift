import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

/// What is deleted and erased, on a real database: expired webhook events, a deleted contact's personal data.
@Suite struct RetentionTests {
    let logger = StoreFixtures.logger

    func event(_ client: PostgresClient, _ organizationID: UUID, key: String, daysAgo: Int, callID: String? = nil)
        async throws
    {
        try await client.query(
            """
            INSERT INTO webhook_events (organization_id, provider, event_key, kind, provider_call_id, payload, received_at)
            VALUES (\(organizationID), 'twilio', \(key), 'status', \(callID), \(Data(#"{"To":"+14155550100"}"#.utf8)),
                    now() - make_interval(days => \(daysAgo)::int4))
            """, logger: logger)
    }

    func eventKeys(_ client: PostgresClient) async throws -> [String] {
        var keys: [String] = []
        for try await key in try await client.query("SELECT event_key FROM webhook_events ORDER BY event_key", logger: logger)
            .decode(String.self)
        {
            keys.append(key)
        }
        return keys
    }

    @Test func retentionDeletesEventsOlderThanThePeriodInBatches() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let acme = try await StoreFixtures.organization(client)
            let globex = try await StoreFixtures.organization(client)
            for index in 0..<5 { try await event(client, acme.id, key: "old-\(index)", daysAgo: 31) }
            try await event(client, globex.id, key: "old-globex", daysAgo: 45)
            try await event(client, acme.id, key: "recent", daysAgo: 29)
            try await event(client, globex.id, key: "today", daysAgo: 0)
            let retention = WebhookEventRetention(client: client)

            #expect(try await retention.deleteBatch(olderThanDays: 30, limit: 4, logger: logger) == 4)
            #expect(try await retention.deleteExpired(olderThanDays: 30, batchSize: 4, logger: logger) == 2)

            #expect(try await eventKeys(client) == ["recent", "today"])
        }
    }

    @Test func retentionFindsItsBatchThroughAnIndex() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let organization = try await StoreFixtures.organization(client)
            try await client.query(
                """
                INSERT INTO webhook_events (organization_id, provider, event_key, kind, payload, received_at)
                SELECT \(organization.id), 'twilio', 'e' || n, 'status', '\\x00'::bytea,
                       now() - make_interval(days => 30, mins => n)
                FROM generate_series(1, 5000) AS n
                """, logger: logger)
            try await client.query("ANALYZE webhook_events", logger: logger)
            let query = WebhookEventRetention.deleteBatchQuery(olderThanDays: 30, limit: 1000)
            let plan = try await client.withConnection { connection in
                var lines: [String] = []
                for try await line in try await connection.query(
                    PostgresQuery(unsafeSQL: "EXPLAIN " + query.sql, binds: query.binds), logger: logger
                ).decode(String.self) {
                    lines.append(line)
                }
                return lines.joined(separator: "\n")
            }
            // Every row is expired: the batch is found by the index and deleted by a TID scan,
            // never by reading the whole table.
            #expect(plan.contains("Index Scan using webhook_events_received_idx"), "\(plan)")
            #expect(plan.contains("Tid Scan"), "\(plan)")
            #expect(!plan.contains("Seq Scan"), "\(plan)")
        }
    }

    @Test func deletingAContactErasesItsNameAndPhoneFromItsSessionsAndCalls() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let organization = try await StoreFixtures.organization(client)
            let other = try await StoreFixtures.organization(client)
            let contacts = ContactStore(client: client)
            let conferences = ConferenceStore(client: client)
            let calls = CallStore(client: client)
            _ = try await contacts.importContacts(
                organizationID: organization.id,
                rows: [
                    ContactFields(name: "Ada", phoneE164: "+14155550100", company: nil, notes: nil),
                    ContactFields(name: "Bob", phoneE164: "+14155550101", company: nil, notes: nil),
                ], totalRows: 2, rejected: 0, actor: .commandLine, logger: logger)
            let listed = try await contacts.list(organizationID: organization.id, search: nil, after: nil, limit: 10, logger: logger)
            let ada = try #require(listed.first { $0.name == "Ada" })
            let bob = try #require(listed.first { $0.name == "Bob" })

            func session(_ organizationID: UUID, _ contact: Contact?, phone: String) async throws -> (Conference, Call) {
                let conference = try await conferences.create(
                    organizationID: organizationID,
                    NewConference(
                        provider: "twilio", contactID: contact?.id, contactName: contact?.name, contactPhone: phone,
                        fromNumber: "+14155550199", createdBy: nil),
                    logger: logger)
                guard
                    case .started(let call) = try await calls.begin(
                        organizationID: organizationID,
                        call: NewCall(
                            provider: "twilio", fromNumber: "+14155550199", toNumber: phone, workflowID: nil,
                            workflowRunID: nil, idempotencyKey: nil, requestHash: "h", createdBy: nil,
                            conferenceID: conference.id),
                        logger: logger)
                else { throw PersistenceError.conflict("no new call") }
                let providerCallID = "CA-\(call.id)"
                let placed = try await calls.markPlaced(
                    organizationID: organizationID, id: call.id, providerCallID: providerCallID, status: "completed",
                    rawStatus: "completed", logger: logger)
                try await event(client, organizationID, key: "ev-\(call.id)", daysAgo: 0, callID: providerCallID)
                return (conference, placed)
            }
            let (adaSession, adaCall) = try await session(organization.id, ada, phone: ada.phoneE164)
            // Dialled by number (to_phone), without the contact.
            let (byNumber, byNumberCall) = try await session(organization.id, nil, phone: ada.phoneE164)
            let (bobSession, bobCall) = try await session(organization.id, bob, phone: bob.phoneE164)
            let (otherSession, otherCall) = try await session(other.id, nil, phone: ada.phoneE164)

            #expect(try await contacts.delete(organizationID: organization.id, id: ada.id, actor: .commandLine, logger: logger))

            for (conference, call) in [(adaSession, adaCall), (byNumber, byNumberCall)] {
                let erased = try #require(try await conferences.get(organizationID: organization.id, id: conference.id, logger: logger))
                #expect(erased.contactName == nil)
                #expect(erased.contactPhone == ContactStore.erasedPhone)
                let kept = try #require(try await calls.get(organizationID: organization.id, id: call.id, logger: logger))
                #expect(kept.toNumber == ContactStore.erasedPhone)
                #expect(kept.status == "completed")
                #expect(try await payload(client, "ev-\(call.id)") == Data())
            }
            let untouched = try #require(try await conferences.get(organizationID: organization.id, id: bobSession.id, logger: logger))
            #expect(untouched.contactName == "Bob")
            #expect(try await calls.get(organizationID: organization.id, id: bobCall.id, logger: logger)?.toNumber == bob.phoneE164)
            #expect(try await payload(client, "ev-\(bobCall.id)") != Data())
            // Another organization's history with the same number is not this contact's.
            #expect(try await conferences.get(organizationID: other.id, id: otherSession.id, logger: logger)?.contactPhone == ada.phoneE164)
            #expect(try await calls.get(organizationID: other.id, id: otherCall.id, logger: logger)?.toNumber == ada.phoneE164)
            #expect(try await payload(client, "ev-\(otherCall.id)") != Data())
        }
    }

    func payload(_ client: PostgresClient, _ key: String) async throws -> Data? {
        for try await payload in try await client.query(
            "SELECT payload FROM webhook_events WHERE event_key = \(key)", logger: logger
        ).decode(Data.self) {
            return payload
        }
        return nil
    }
}
