import Foundation
import Logging
import Persistence
import PostgresNIO
import Synchronization
import TestSupport
import Testing

/// Cold-call sessions on a real database: event order and duplicates, concurrent bridging, the call log.
@Suite struct ConferenceStoreTests {
    let logger = StoreFixtures.logger

    func session(_ store: ConferenceStore, _ organizationID: UUID, provider: String = "twilio") async throws -> Conference {
        try await store.create(
            organizationID: organizationID,
            NewConference(
                provider: provider, contactID: nil, contactName: "Ada", contactPhone: "+14155550100",
                fromNumber: "+14155550199", createdBy: nil),
            logger: logger)
    }

    /// The session's contact leg, placed as `providerCallID`.
    func contactCall(_ client: PostgresClient, _ organizationID: UUID, _ conference: Conference, _ providerCallID: String)
        async throws -> Call
    {
        let calls = CallStore(client: client)
        guard
            case .started(let call) = try await calls.begin(
                organizationID: organizationID,
                call: NewCall(
                    provider: conference.provider, fromNumber: conference.fromNumber, toNumber: conference.contactPhone,
                    workflowID: nil, workflowRunID: nil, idempotencyKey: nil, requestHash: "h", createdBy: nil,
                    conferenceID: conference.id),
                logger: logger)
        else { throw PersistenceError.conflict("no new call") }
        return try await calls.markPlaced(
            organizationID: organizationID, id: call.id, providerCallID: providerCallID, status: "queued",
            rawStatus: "queued", logger: logger)
    }

    /// A Twilio-like life of a conference: start, two joins, mute/hold changes, leaves, end.
    func lifecycle(_ conference: Conference, contact: String = "CA-contact") -> [ConferenceEventRecord] {
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        var sequence: Int64 = 0
        func event(
            _ kind: ConferenceEventRecord.Kind, _ call: String?, muted: Bool? = nil, onHold: Bool? = nil
        ) -> ConferenceEventRecord {
            sequence += 1
            return ConferenceEventRecord(
                provider: "twilio", eventKey: "\(conference.id):\(sequence)", kind: kind, conferenceID: conference.id,
                providerConferenceID: "CF-\(conference.id)", providerCallID: call, muted: muted, onHold: onHold, sequence: sequence,
                occurredAt: base.addingTimeInterval(Double(sequence)), payload: Data("{}".utf8))
        }
        return [
            event(.participantJoined, contact, muted: false, onHold: false),
            event(.conferenceStarted, nil),
            event(.participantJoined, "CA-agent", muted: false, onHold: false),
            event(.participantUpdated, "CA-agent", muted: true, onHold: false),
            event(.participantUpdated, "CA-agent", muted: false, onHold: false),
            event(.participantUpdated, contact, muted: false, onHold: true),
            event(.participantUpdated, contact, muted: false, onHold: false),
            event(.participantUpdated, contact, muted: true, onHold: false),
            event(.participantLeft, "CA-agent", muted: false, onHold: false),
            event(.participantLeft, contact, muted: true, onHold: false),
            event(.conferenceEnded, nil),
        ]
    }

    struct Snapshot: Equatable {
        var status: String
        var providerConferenceID: String?
        var startedAt: Date?
        var endedAt: Date?
        var participants: [String: [String]]
    }

    func snapshot(_ store: ConferenceStore, _ organizationID: UUID, _ id: UUID, contact: String = "CA-contact") async throws
        -> Snapshot
    {
        let conference = try #require(try await store.get(organizationID: organizationID, id: id, logger: logger))
        let participants = try await store.participants(organizationID: organizationID, conferenceID: id, logger: logger)
        return Snapshot(
            status: conference.status, providerConferenceID: conference.providerConferenceID,
            startedAt: conference.startedAt, endedAt: conference.endedAt,
            participants: Dictionary(
                uniqueKeysWithValues: participants.map {
                    ($0.providerCallID == contact ? "CA-contact" : $0.providerCallID, [$0.role, "\($0.muted)", "\($0.onHold)", "\($0.joinedAt != nil)", "\($0.leftAt != nil)"])
                }))
    }

    @Test func duplicatedAndShuffledEventsEndInTheSameStateAsOrderedOnes() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let ordered = try await session(store, organization.id)
            _ = try await contactCall(client, organization.id, ordered, "CA-contact")
            for event in lifecycle(ordered) {
                _ = try await store.apply(event, organizationID: organization.id, logger: logger)
            }
            let expected = try await snapshot(store, organization.id, ordered.id)
            #expect(expected.status == "completed")
            #expect(expected.participants["CA-contact"] == ["contact", "true", "false", "true", "true"])
            #expect(expected.participants["CA-agent"] == ["agent", "false", "false", "true", "true"])

            var generator = SystemRandomNumberGenerator()
            for _ in 0..<6 {
                let shuffledSession = try await session(store, organization.id)
                // Provider call ids are unique per organization; each session's contact leg gets its own.
                let contact = "CA-contact-\(shuffledSession.id)"
                _ = try await contactCall(client, organization.id, shuffledSession, contact)
                var events = lifecycle(shuffledSession, contact: contact)
                events += events.shuffled(using: &generator).prefix(4)  // duplicates
                var outcomes: [ConferenceStore.EventOutcome] = []
                for event in events.shuffled(using: &generator) {
                    outcomes.append(try await store.apply(event, organizationID: organization.id, logger: logger))
                }
                #expect(outcomes.filter { $0 == .duplicate }.count == 4)
                var actual = try await snapshot(store, organization.id, shuffledSession.id, contact: contact)
                // Each session has its own provider conference id.
                actual.providerConferenceID = expected.providerConferenceID
                #expect(actual == expected)
            }
        }
    }

    @Test func eventsNamingAnotherOrganizationsSessionChangeNothing() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let acme = try await StoreFixtures.organization(client, slug: "acme")
            let globex = try await StoreFixtures.organization(client, slug: "globex")
            let conference = try await session(store, acme.id)
            let event = lifecycle(conference)[0]
            let outcome = try await store.apply(event, organizationID: globex.id, logger: logger)
            #expect(outcome == .unmatched)
            #expect(try await store.participants(organizationID: acme.id, conferenceID: conference.id, logger: logger).isEmpty)
        }
    }

    @Test func concurrentBridgesCreateExactlyOneConference() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let conference = try await session(store, organization.id, provider: "telnyx")
            let counts = Counts()
            let logger = self.logger
            try await withThrowingTaskGroup(of: Void.self) { group in
                for leg in ["leg-a", "leg-b", "leg-c", "leg-a"] {
                    group.addTask {
                        // What ColdCallService.bridge does: claim, ask the provider outside any transaction, record.
                        while true {
                            switch try await store.claimBridge(
                                organizationID: organization.id, id: conference.id, providerCallID: leg, lease: .seconds(10),
                                logger: logger)
                            {
                            case .create:
                                // A provider round trip: long enough for the other bridges to find the lease taken.
                                try await Task.sleep(for: .milliseconds(100))
                                counts.created.withLock { $0 += 1 }
                                try await store.recordBridge(
                                    organizationID: organization.id, id: conference.id, providerConferenceID: "conf-1",
                                    participant: NewParticipant(role: "contact", providerCallID: leg, clientID: nil),
                                    logger: logger)
                                return
                            case .join(let existing):
                                #expect(existing == "conf-1")
                                counts.joined.withLock { $0 += 1 }
                                try await store.recordBridge(
                                    organizationID: organization.id, id: conference.id, providerConferenceID: nil,
                                    participant: NewParticipant(role: "agent", providerCallID: leg, clientID: "agent-1"),
                                    logger: logger)
                                return
                            case .wait:
                                try await Task.sleep(for: .milliseconds(10))
                            case .alreadyBridged, .unknown, .ended:
                                return
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(counts.created.withLock { $0 } == 1)
            #expect(counts.joined.withLock { $0 } == 2)
            let stored = try #require(try await store.get(organizationID: organization.id, id: conference.id, logger: logger))
            #expect(stored.providerConferenceID == "conf-1")
            let participants = try await store.participants(
                organizationID: organization.id, conferenceID: conference.id, logger: logger)
            #expect(Set(participants.map(\.providerCallID)) == ["leg-a", "leg-b", "leg-c"])
        }
    }

    @Test func aSessionWithoutACallIsNotInTheLogAndTakesNoOutcome() async throws {
        try await TestDatabase.withMigratedDatabase { client, _ in
            let store = ConferenceStore(client: client)
            let organization = try await StoreFixtures.organization(client)
            let conference = try await session(store, organization.id)
            let entry = try await store.recordOutcome(
                organizationID: organization.id, callID: conference.id,
                CallOutcomeRecord(outcome: "busy", notes: nil, callbackAt: nil, recordedBy: nil), actor: .commandLine,
                logger: logger)
            #expect(entry == nil)
            #expect(try await store.log(organizationID: organization.id, outcome: nil, after: nil, limit: 10, logger: logger).isEmpty)
        }
    }
}

/// How many bridges created and joined the conference.
final class Counts: Sendable {
    let created = Mutex(0)
    let joined = Mutex(0)
}
