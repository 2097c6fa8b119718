import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

/// Calls left `initiating` (the request died between the provider's answer and `markPlaced`) on a real database.
@Suite struct InitiatingCallSweepTests {
    let logger = StoreFixtures.logger

    func begin(_ calls: CallStore, _ organizationID: UUID, key: String? = nil, conferenceID: UUID? = nil) async throws
        -> Call
    {
        guard
            case .started(let call) = try await calls.begin(
                organizationID: organizationID,
                call: NewCall(
                    provider: "twilio", fromNumber: "+14155550199", toNumber: "+14155550100", workflowID: nil,
                    workflowRunID: nil, idempotencyKey: key, requestHash: "h", createdBy: nil, conferenceID: conferenceID),
                logger: logger)
        else { throw PersistenceError.conflict("no new call") }
        return call
    }

    func age(_ client: PostgresClient, _ call: Call, seconds: Int) async throws {
        try await client.query(
            """
            UPDATE calls SET created_at = now() - make_interval(secs => \(seconds))
            WHERE organization_id = \(call.organizationID) AND id = \(call.id)
            """, logger: logger)
    }

    @Test func sweepResolvesOnlyCallsOlderThanTheDeadlineAndMargin() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let organization = try await StoreFixtures.organization(client)
            // The largest provider deadline: a fixed 120 s threshold would sweep a call that may still be placed.
            let calls = CallStore(client: client, providerTimeout: .seconds(120))
            #expect(calls.staleInitiatingAfter == .seconds(180))
            let old = try await begin(calls, organization.id, key: "old")
            let young = try await begin(calls, organization.id, key: "young")
            let placed = try await begin(calls, organization.id, key: "placed")
            try await age(client, old, seconds: 181)
            try await age(client, young, seconds: 150)
            _ = try await calls.markPlaced(
                organizationID: organization.id, id: placed.id, providerCallID: "CA1", status: "queued",
                rawStatus: "queued", logger: logger)
            try await age(client, placed, seconds: 600)

            let swept = try await calls.sweepStaleInitiating(limit: 100, logger: logger)

            #expect(swept.map(\.id) == [old.id])
            let resolved = try #require(try await calls.get(organizationID: organization.id, id: old.id, logger: logger))
            #expect(resolved.status == "failed")
            #expect(resolved.rawStatus == CallRowState.unconfirmed.rawValue)
            #expect(resolved.endedAt != nil)
            #expect(try await calls.get(organizationID: organization.id, id: young.id, logger: logger)?.status == "initiating")
            #expect(try await calls.get(organizationID: organization.id, id: placed.id, logger: logger)?.status == "queued")
            // The key stays bound: a retry is answered with the unconfirmed call, not a second dial.
            let retry = try await calls.begin(
                organizationID: organization.id,
                call: NewCall(
                    provider: "twilio", fromNumber: "+14155550199", toNumber: "+14155550100", workflowID: nil,
                    workflowRunID: nil, idempotencyKey: "old", requestHash: "h", createdBy: nil),
                logger: logger)
            #expect(retry == .replay(resolved))
        }
    }

    @Test func sweepWorksInBatches() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let organization = try await StoreFixtures.organization(client)
            let calls = CallStore(client: client, providerTimeout: .seconds(1))
            for _ in 0..<5 {
                try await age(client, try await begin(calls, organization.id), seconds: 120)
            }
            #expect(try await calls.sweepStaleInitiating(limit: 3, logger: logger).count == 3)
            #expect(try await calls.sweepStaleInitiating(limit: 3, logger: logger).count == 2)
            #expect(try await calls.sweepStaleInitiating(limit: 3, logger: logger).isEmpty)
        }
    }

    @Test func markPlacedLeavesACallTheSweeperResolved() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let organization = try await StoreFixtures.organization(client)
            let calls = CallStore(client: client, providerTimeout: .seconds(1))
            let call = try await begin(calls, organization.id)
            try await age(client, call, seconds: 120)
            _ = try await calls.sweepStaleInitiating(limit: 10, logger: logger)

            let late = try await calls.markPlaced(
                organizationID: organization.id, id: call.id, providerCallID: "CA-late", status: "queued",
                rawStatus: "queued", logger: logger)

            #expect(late.status == "failed")
            #expect(late.rawStatus == CallRowState.unconfirmed.rawValue)
            #expect(late.providerCallID == nil)
        }
    }

    @Test func sweepCompletesTheColdCallSessionItsContactLegNeverStarted() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let organization = try await StoreFixtures.organization(client)
            let conferences = ConferenceStore(client: client)
            let calls = CallStore(client: client, providerTimeout: .seconds(1))
            let session = try await conferences.create(
                organizationID: organization.id,
                NewConference(
                    provider: "twilio", contactID: nil, contactName: "Ada", contactPhone: "+14155550100",
                    fromNumber: "+14155550199", createdBy: nil),
                logger: logger)
            let call = try await begin(calls, organization.id, conferenceID: session.id)
            try await age(client, call, seconds: 120)

            _ = try await calls.sweepStaleInitiating(limit: 10, logger: logger)

            let ended = try #require(try await conferences.get(organizationID: organization.id, id: session.id, logger: logger))
            #expect(ended.status == "completed")
        }
    }

    @Test func jobLockRunsAJobOnOneInstanceAtATime() async throws {
        try await TestDatabase.withMigratedDatabase { client, configuration in
            try await TestDatabase.withClient(configuration) { other in
                let first = BackgroundJobLock(client: client)
                let second = BackgroundJobLock(client: other)
                let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
                let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
                async let holder: Int? = first.run("test-job", logger: logger) {
                    enteredContinuation.yield()
                    for await _ in release { break }
                    return 1
                }
                for await _ in entered { break }
                let whileHeld = try await second.run("test-job", logger: logger) { 2 }
                let otherJob = try await second.run("another-job", logger: logger) { 3 }
                releaseContinuation.yield()
                #expect(try await holder == 1)
                #expect(whileHeld == nil)
                #expect(otherJob == 3)
                #expect(try await second.run("test-job", logger: logger) { 4 } == 4)
            }
        }
    }
}
