import Foundation
import Logging
import Persistence
import PostgresNIO
import TestSupport
import Testing

/// Issue 10 at store level: unanswered sessions end, events of unknown calls are stored nowhere,
/// the Telnyx bridge claims its work with a lease instead of a row lock held across the provider.
@Suite struct ColdCallHardeningStoreTests {
    let logger = StoreFixtures.logger
    let fixtures = ConferenceStoreTests()

    func status(_ providerCallID: String, _ status: String, key: String = UUID().uuidString) -> RecordedEvent {
        RecordedEvent(
            provider: "twilio", eventKey: key, kind: "status", providerCallID: providerCallID, status: status,
            rawStatus: status, durationSeconds: nil, payload: Data("{}".utf8))
    }

    // MARK: - Item 3: a contact who never answers ends the session

    @Test(arguments: ["busy", "no-answer", "failed", "canceled"])
    func aTerminalContactLegBeforeTheStartCompletesTheSession(_ terminal: String) async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let calls = CallStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let conference = try await fixtures.session(store, organization.id)
            _ = try await fixtures.contactCall(client, organization.id, conference, "CA-1")
            _ = try await calls.record(status("CA-1", "ringing"), organizationID: organization.id, logger: logger)
            let ringing = try #require(try await store.get(organizationID: organization.id, id: conference.id, logger: logger))
            #expect(ringing.status == "init" && ringing.endedReason == nil)
            _ = try await calls.record(status("CA-1", terminal), organizationID: organization.id, logger: logger)
            let ended = try #require(try await store.get(organizationID: organization.id, id: conference.id, logger: logger))
            #expect(ended.status == "completed")
            #expect(ended.endedReason == terminal)
            #expect(ended.endedAt != nil)
        }
    }

    /// The busy event can arrive before the provider's API answer is recorded: applied then, it ends the session too.
    @Test func anEarlyBusyEventAppliedAtPlacementCompletesTheSession() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let calls = CallStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let conference = try await fixtures.session(store, organization.id)
            guard
                case .started(let call) = try await calls.begin(
                    organizationID: organization.id,
                    call: NewCall(
                        provider: "twilio", fromNumber: conference.fromNumber, toNumber: conference.contactPhone,
                        workflowID: nil, workflowRunID: nil, idempotencyKey: nil, requestHash: "h", createdBy: nil,
                        conferenceID: conference.id),
                    logger: logger)
            else { throw PersistenceError.conflict("no new call") }
            _ = try await calls.record(status("CA-early", "busy"), organizationID: organization.id, logger: logger)
            _ = try await calls.markPlaced(
                organizationID: organization.id, id: call.id, providerCallID: "CA-early", status: "queued",
                rawStatus: "queued", logger: logger)
            let ended = try #require(try await store.get(organizationID: organization.id, id: conference.id, logger: logger))
            #expect(ended.status == "completed" && ended.endedReason == "busy")
        }
    }

    /// Once the conference runs, the contact's leg ending is the conference's business, not an unanswered call.
    @Test func aTerminalContactLegAfterTheStartLeavesTheSessionToItsConference() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let calls = CallStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let conference = try await fixtures.session(store, organization.id)
            _ = try await fixtures.contactCall(client, organization.id, conference, "CA-contact")
            for event in fixtures.lifecycle(conference).prefix(3) {
                _ = try await store.apply(event, organizationID: organization.id, logger: logger)
            }
            _ = try await calls.record(status("CA-contact", "completed"), organizationID: organization.id, logger: logger)
            let running = try #require(try await store.get(organizationID: organization.id, id: conference.id, logger: logger))
            #expect(running.status == "in-progress" && running.endedReason == nil)
        }
    }
}

extension ColdCallHardeningStoreTests {
    // MARK: - Item 5: the bridge lease

    /// One bridge request per session at a time, no row lock held across it: a second delivery
    /// waits while the lease lives; a lease that ran out without a recorded result is taken over with
    /// "look it up first" (the provider may have created the conference); a recorded conference is joined.
    @Test func theBridgeLeaseSerializesAndRecoversALostResult() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let conference = try await fixtures.session(store, organization.id, provider: "telnyx")
            func claim(_ leg: String, lease: Duration = .seconds(10)) async throws -> ConferenceStore.BridgeClaim {
                try await store.claimBridge(
                    organizationID: organization.id, id: conference.id, providerCallID: leg, lease: lease, logger: logger)
            }
            #expect(try await claim("leg-a", lease: .seconds(8)) == .create(name: conference.name, lookUpFirst: false))
            // While leg-a asks the provider, the session row is not locked: other work on it proceeds.
            try await store.setAgent(
                organizationID: organization.id, id: conference.id, clientID: "agent-1", actor: .commandLine, logger: logger)
            #expect(try await claim("leg-b") == .wait)
            #expect(try await claim("leg-a") == .wait)  // a duplicate delivery of leg-a's event
            // leg-a's provider request succeeded but its result was never recorded; its lease runs out.
            try await Task.sleep(for: .milliseconds(8200))
            #expect(try await claim("leg-a") == .create(name: conference.name, lookUpFirst: true))
            try await store.recordBridge(
                organizationID: organization.id, id: conference.id, providerConferenceID: "conf-1",
                participant: NewParticipant(role: "contact", providerCallID: "leg-a", clientID: nil), logger: logger)
            #expect(try await claim("leg-a") == .alreadyBridged)
            #expect(try await claim("leg-b") == .join(providerConferenceID: "conf-1"))
            try await store.releaseBridgeLease(organizationID: organization.id, id: conference.id, logger: logger)
            try await store.markEndRequested(
                organizationID: organization.id, id: conference.id, actor: .commandLine, logger: logger)
            #expect(try await claim("leg-c") == .ended)
            #expect(try await store.claimBridge(
                organizationID: organization.id, id: UUID(), providerCallID: "leg-a", lease: .seconds(1), logger: logger) == .unknown)
        }
    }
}

extension ColdCallHardeningStoreTests {
    // MARK: - Item 12: events of no call of the organization

    func storedEvents(_ client: PostgresClient, _ organizationID: UUID) async throws -> Int {
        let rows = try await client.query(
            "SELECT count(*)::int FROM webhook_events WHERE organization_id = \(organizationID)", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return -1
    }

    /// Another organization's call (the same provider call id, verified with shared credentials) is
    /// no call of this one: its status, recording and conference events are acknowledged as
    /// unmatched, stored nowhere, and change nothing.
    @Test func eventsOfAnotherOrganizationsCallAreStoredNowhere() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let calls = CallStore(client: client)
            let a = try await StoreFixtures.organization(client)
            let b = try await StoreFixtures.organization(client)
            let conference = try await fixtures.session(store, a.id)
            let call = try await fixtures.contactCall(client, a.id, conference, "CA-a")
            #expect(try await calls.record(status("CA-a", "completed"), organizationID: b.id, logger: logger) == .unmatched)
            #expect(
                try await calls.record(
                    RecordedEvent(
                        provider: "twilio", eventKey: "no-call", kind: "other", providerCallID: nil, status: nil,
                        rawStatus: "x", durationSeconds: nil, payload: Data()),
                    organizationID: b.id, logger: logger) == .unmatched)
            let recording = RecordingRecord(
                provider: "twilio", eventKey: "rec-1", providerCallID: "CA-a", recordingID: "RE1",
                url: "https://example.com/r", durationSeconds: 3, payload: Data())
            #expect(try await store.recordRecording(recording, organizationID: b.id, logger: logger) == .unmatched)
            #expect(
                try await store.apply(fixtures.lifecycle(conference)[0], organizationID: b.id, logger: logger) == .unmatched)
            #expect(try await storedEvents(client, b.id) == 0)
            #expect(try await calls.get(organizationID: a.id, id: call.id, logger: logger)?.status == "queued")
            // In its own organization the same events are stored and applied.
            #expect(try await store.recordRecording(recording, organizationID: a.id, logger: logger) == .attached)
            #expect(try await store.recordRecording(recording, organizationID: a.id, logger: logger) == .duplicate)
            guard case .stored(let moved?) = try await calls.record(status("CA-a", "completed"), organizationID: a.id, logger: logger)
            else { Issue.record("not stored in its own organization"); return }
            #expect(moved.status == "completed")
        }
    }

    /// While one of the organization's calls is still being placed, an event of a call not known yet
    /// may be its early event: it is kept, and applied when the call is recorded as placed.
    @Test func anEventOfACallNotPlacedYetIsKeptWhileACallIsInitiating() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let calls = CallStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            #expect(try await calls.record(status("CA-x", "ringing"), organizationID: organization.id, logger: logger) == .unmatched)
            guard
                case .started(let call) = try await calls.begin(
                    organizationID: organization.id,
                    call: NewCall(
                        provider: "twilio", fromNumber: "+14155550100", toNumber: "+14155550123", workflowID: nil,
                        workflowRunID: nil, idempotencyKey: nil, requestHash: "h", createdBy: nil),
                    logger: logger)
            else { throw PersistenceError.conflict("no new call") }
            #expect(try await calls.record(status("CA-x", "ringing"), organizationID: organization.id, logger: logger) == .stored(call: nil))
            let placed = try await calls.markPlaced(
                organizationID: organization.id, id: call.id, providerCallID: "CA-x", status: "queued", rawStatus: "queued",
                logger: logger)
            #expect(placed.status == "ringing")
        }
    }
}
