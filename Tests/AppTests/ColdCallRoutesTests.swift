import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

@testable import App

/// The cold-call routes' input checks and tenancy, which refuse before any provider is asked.
@Suite struct ColdCallRoutesTests {
    func configureTwilio(_ harness: AppHarness, _ client: some TestClientProtocol) async throws {
        let put = try await client.send(
            .put, "/api/v1/organizations/acme/configuration/TWILIO_CONFIGURATION", key: harness.acmeAdmin,
            json: AppHarness.twilioDocument)
        #expect(put.status == .created)
    }

    func count(_ harness: AppHarness, _ table: String) async throws -> Int {
        let rows = try await harness.postgres.query("SELECT count(*) FROM \(unescaped: table)", logger: TestDatabase.logger)
        for try await count in rows.decode(Int.self) { return count }
        return -1
    }

    /// A session of Acme's with one joined participant, as the provider's events would leave it.
    func session(_ harness: AppHarness, status: String = "in-progress") async throws -> (Conference, ConferenceParticipant) {
        let store = harness.dependencies.conferences
        let logger = TestDatabase.logger
        let conference = try await store.create(
            organizationID: harness.acme.id,
            NewConference(
                provider: "twilio", contactID: nil, contactName: nil, contactPhone: "+14155550123",
                fromNumber: "+14155550100", createdBy: nil),
            logger: logger)
        var sequence: Int64 = 0
        func apply(_ kind: ConferenceEventRecord.Kind, _ call: String?) async throws {
            sequence += 1
            _ = try await store.apply(
                ConferenceEventRecord(
                    provider: "twilio", eventKey: "\(conference.id)-\(sequence)", kind: kind, conferenceID: conference.id,
                    providerConferenceID: "CF\(conference.id.uuidString.prefix(8))", providerCallID: call,
                    muted: false, onHold: false, sequence: sequence, occurredAt: Date(), payload: Data()),
                organizationID: harness.acme.id, logger: logger)
        }
        try await apply(.participantJoined, "CA-contact-\(conference.id)")
        try await apply(.conferenceStarted, nil)
        if status == "completed" { try await apply(.conferenceEnded, nil) }
        let participant = try #require(
            try await store.participants(organizationID: harness.acme.id, conferenceID: conference.id, logger: logger).first)
        let current = try #require(try await store.get(organizationID: harness.acme.id, id: conference.id, logger: logger))
        return (current, participant)
    }

    @Test(arguments: [
        (#"{}"#, 400, "invalid_field"),
        (#"{"to_phone":"+14155550123","contact_id":"9b2f8f4e-4c1e-4a55-9d8f-0e4b1b7c2a11"}"#, 400, "invalid_field"),
        (#"{"to_phone":"4155550123"}"#, 400, "invalid_phone_number"),
        (#"{"to_phone":"+14155550123","from_phone":"+14155550999"}"#, 400, "invalid_field"),
        (#"{"to_phone":"+14155550123","provider":"vonage"}"#, 422, "provider_not_configured"),
        (#"{"to_phone":"+14155550123","agent":"x"}"#, 400, "unknown_field"),
        (#"{"to_phone":14155550123}"#, 400, "invalid_field"),
        (#"{"contact_id":"9b2f8f4e-4c1e-4a55-9d8f-0e4b1b7c2a11"}"#, 404, "contact_not_found"),
        (#"{"contact_id":"not-a-uuid"}"#, 404, "contact_not_found"),
        (#"{"to_phone":"+14155550123""#, 400, "malformed_json"),
    ])
    func badInitiateRequestsAreRefusedAndRecordNothing(_ body: String, _ status: Int, _ code: String) async throws {
        try await AppHarness.run { harness, client in
            try await configureTwilio(harness, client)
            let response = try await client.send(.post, "/api/v1/cold-call/initiate", key: harness.acmeService, raw: body)
            #expect(response.status.code == status, "\(response.text)")
            #expect(try response.errorCode() == code)
            #expect(try await count(harness, "conferences") == 0)
            #expect(try await count(harness, "calls") == 0)
        }
    }

    @Test func vonageAndPlivoHaveNoColdCalls() async throws {
        try await AppHarness.run { harness, client in
            let put = try await client.send(
                .put, "/api/v1/organizations/acme/configuration/PLIVO_CONFIGURATION", key: harness.acmeAdmin,
                json: [
                    "auth_id": .string("MAODUZYTQ0Y2FMYJBLOW"), "auth_token": .string("test-only-plivo-auth-token"),
                    "from_numbers": .array([.string("+14155550100")]),
                ])
            #expect(put.status == .created)
            let response = try await client.send(
                .post, "/api/v1/cold-call/initiate", key: harness.acmeService,
                json: ["to_phone": .string("+14155550123"), "provider": .string("plivo")])
            #expect(response.status == .unprocessableContent)
            #expect(try response.errorCode() == "provider_unsupported")
            #expect(try await count(harness, "conferences") == 0)
        }
    }

    @Test func anotherOrganizationsSessionIsNotFoundOnEveryRoute() async throws {
        try await AppHarness.run { harness, client in
            let (conference, participant) = try await session(harness)
            let id = conference.id.lowercasedString
            let requests: [(HTTPRequest.Method, String, JSONBody?)] = [
                (.get, "/api/v1/cold-call/status/\(id)", nil),
                (.post, "/api/v1/cold-call/end", ["conference_id": .string(id)]),
                (.post, "/api/v1/cold-call/webrtc-join", ["conference_id": .string(id), "client_id": .string("agent-7")]),
                (
                    .post, "/api/v1/cold-call/control/mute",
                    ["conference_id": .string(id), "participant_id": .string(participant.id.lowercasedString)]
                ),
            ]
            for (method, path, body) in requests {
                let response = try await client.send(method, path, key: harness.globexAdmin, json: body)
                #expect(response.status == .notFound, "\(path): \(response.text)")
                #expect(try response.errorCode() == "conference_not_found")
            }
            let after = try await harness.dependencies.conferences.get(
                organizationID: harness.acme.id, id: conference.id, logger: TestDatabase.logger)
            #expect(after == conference)
            // Refused: nothing audited, in either organization.
            for organization in [harness.acme.id, harness.globex.id] {
                #expect(try await AuditRow.count(harness.postgres, organizationID: organization, prefix: "cold_call.") == 0)
            }
        }
    }

    @Test func controlChecksTheParticipantAndTheSessionState() async throws {
        try await AppHarness.run { harness, client in
            try await configureTwilio(harness, client)
            let (conference, _) = try await session(harness)
            let (other, otherParticipant) = try await session(harness)
            let id = conference.id.lowercasedString
            // A participant of another conference of the same organization.
            let foreign = try await client.send(
                .post, "/api/v1/cold-call/control/mute", key: harness.acmeService,
                json: ["conference_id": .string(id), "participant_id": .string(otherParticipant.id.lowercasedString)])
            #expect(foreign.status == .notFound)
            #expect(try foreign.errorCode() == "participant_not_found")
            let unknownAction = try await client.send(
                .post, "/api/v1/cold-call/control/deafen", key: harness.acmeService,
                json: ["conference_id": .string(id), "participant_id": .string(otherParticipant.id.lowercasedString)])
            #expect(unknownAction.status == .notFound)
            let (completed, completedParticipant) = try await session(harness, status: "completed")
            let ended = try await client.send(
                .post, "/api/v1/cold-call/control/hold", key: harness.acmeService,
                json: [
                    "conference_id": .string(completed.id.lowercasedString),
                    "participant_id": .string(completedParticipant.id.lowercasedString),
                ])
            #expect(ended.status == .conflict)
            #expect(try ended.errorCode() == "conference_ended")
            // Ending a completed session is a no-op that answers its state.
            let end = try await client.send(
                .post, "/api/v1/cold-call/end", key: harness.acmeService,
                json: ["conference_id": .string(completed.id.lowercasedString)])
            #expect(end.status == .ok)
            #expect(try end.object()["status"] as? String == "completed")
            let participants = try await harness.dependencies.conferences.participants(
                organizationID: harness.acme.id, conferenceID: other.id, logger: TestDatabase.logger)
            #expect(participants.allSatisfy { !$0.muted && !$0.onHold })
            // Refused controls and the no-op end of a completed session audit nothing.
            #expect(try await AuditRow.count(harness.postgres, organizationID: harness.acme.id, prefix: "cold_call.") == 0)
        }
    }

    @Test func webrtcJoinNamesTheMissingTwilioFields() async throws {
        try await AppHarness.run { harness, client in
            try await configureTwilio(harness, client)
            let (conference, _) = try await session(harness)
            let response = try await client.send(
                .post, "/api/v1/cold-call/webrtc-join", key: harness.acmeService,
                json: ["conference_id": .string(conference.id.lowercasedString), "client_id": .string("agent-7")])
            #expect(response.status == .unprocessableContent)
            #expect(response.text.contains("api_key_sid, api_key_secret, twiml_app_sid"))
            let badClient = try await client.send(
                .post, "/api/v1/cold-call/webrtc-join", key: harness.acmeService,
                json: ["conference_id": .string(conference.id.lowercasedString), "client_id": .string("agent 7|x")])
            #expect(badClient.status == .badRequest)
        }
    }

    @Test(arguments: [
        (#"{"outcome":"sold"}"#, "invalid_field"),
        (#"{"outcome":"busy","callback_at":"2026-12-01T10:00:00Z"}"#, "invalid_field"),
        (#"{"outcome":"callback_requested","callback_at":"tomorrow"}"#, "invalid_field"),
        (#"{"outcome":"other","notes":""}"#, "invalid_field"),
        (#"{"outcome":"other","mood":"good"}"#, "unknown_field"),
    ])
    func badOutcomesAreRefused(_ body: String, _ code: String) async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/cold-call/calls/\(UUID().uuidString)/outcome", key: harness.acmeService, raw: body)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(try response.errorCode() == code)
        }
    }

    @Test func anOutcomeForAnUnknownCallIsNotFound() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .post, "/api/v1/cold-call/calls/\(UUID().uuidString)/outcome", key: harness.acmeService,
                json: ["outcome": .string("busy")])
            #expect(response.status == .notFound)
            let log = try await client.send(.get, "/api/v1/cold-call/calls?outcome=sold", key: harness.acmeService)
            #expect(log.status == .badRequest)
        }
    }
}

/// The signed conference tokens that admit legs to sessions.
@Suite struct ConferenceTokenTests {
    let signer = TokenSigner(keys: [.init(id: "k1", key: .init(size: .bits256))])
    let claim = ConferenceToken(
        organizationID: UUID(), conferenceID: UUID(), role: .agent, clientID: "agent-7", expires: 2_000_000_000)

    @Test func aTokenNamesItsClaimUntilItExpires() {
        let token = signer.token(for: claim)
        #expect(signer.claim(token, now: Date(timeIntervalSince1970: 1_999_999_999)) == claim)
        #expect(signer.claim(token, now: Date(timeIntervalSince1970: 2_000_000_000)) == nil)
        #expect(signer.claim(token, now: nil) == claim)
    }

    @Test func anAlteredOrForeignTokenIsRefused() {
        let token = signer.token(for: claim)
        let other = TokenSigner(keys: [.init(id: "k1", key: .init(size: .bits256))])
        #expect(other.claim(token, now: nil) == nil)
        #expect(signer.claim(token.replacingOccurrences(of: "|agent|", with: "|contact|"), now: nil) == nil)
        #expect(signer.claim(token.replacingOccurrences(of: "agent-7", with: "agent-8"), now: nil) == nil)
        #expect(signer.claim(String(token.dropLast()), now: nil) == nil)
        #expect(signer.claim("garbage", now: nil) == nil)
    }

    @Test func clientIDsAreIdentitiesEveryProviderTakes() {
        #expect(ConferenceToken.isValidClientID("agent_7.a@b-c"))
        #expect(!ConferenceToken.isValidClientID(""))
        #expect(!ConferenceToken.isValidClientID("a|b"))
        #expect(!ConferenceToken.isValidClientID("a b"))
        #expect(!ConferenceToken.isValidClientID(String(repeating: "a", count: 65)))
        #expect(!ConferenceToken.isValidClientID("agënt"))
    }
}
