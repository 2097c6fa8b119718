import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import Providers
import TestSupport
import Testing

@testable import App

@Suite struct ConfigurationRoutesTests {
    static let path = "/api/v1/organizations/acme/configuration"

    func storedDocument(_ harness: AppHarness, _ key: String) async throws -> [String: JSONValue]? {
        guard
            let opened = try await harness.dependencies.configurations.open(
                organizationID: harness.acme.id, key: key, logger: TestDatabase.logger)
        else { return nil }
        return try JSONDecoder().decode(JSONValue.self, from: opened.document).objectValue
    }

    @Test func aValidDocumentIsStoredAndShownMasked() async throws {
        try await AppHarness.run { harness, client in
            let put = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            #expect(put.status == .created)
            #expect(put.headers[.eTag] == "\"1\"")
            #expect(!put.text.contains(AppHarness.Secrets.twilioAuthToken))
            let get = try await client.send(.get, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeService)
            let document = try #require(try get.object()["document"] as? [String: Any])
            #expect(document["auth_token"] as? String == "****b1a0")
            #expect(document["account_sid"] as? String == AppHarness.Secrets.twilioAccountSID)
            #expect(!get.text.contains(AppHarness.Secrets.twilioAuthToken))
            let list = try await client.send(.get, Self.path, key: harness.acmeService)
            #expect((try list.object()["configurations"] as? [Any])?.count == 1)
            #expect(!list.text.contains(AppHarness.Secrets.twilioAuthToken))
            #expect(try await storedDocument(harness, "TWILIO_CONFIGURATION")?["auth_token"]?.stringValue
                == AppHarness.Secrets.twilioAuthToken)
        }
    }

    @Test func sendingTheMaskBackKeepsTheStoredSecret() async throws {
        try await AppHarness.run { harness, client in
            try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            var edited = AppHarness.twilioDocument
            edited["auth_token"] = .string("****b1a0")
            edited["from_numbers"] = .array([.string("+14155550199")])
            let put = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: edited,
                headers: [.ifMatch: "\"1\""])
            #expect(put.status == .ok)
            let stored = try #require(try await storedDocument(harness, "TWILIO_CONFIGURATION"))
            #expect(stored["auth_token"]?.stringValue == AppHarness.Secrets.twilioAuthToken)
            #expect(stored["from_numbers"] == .array([.string("+14155550199")]))
        }
    }

    @Test func anInvalidDocumentIs422NamingEveryFieldAndStoresNothing() async throws {
        try await AppHarness.run { harness, client in
            let response = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin,
                json: [
                    "account_sid": .string("nope"), "from_numbers": .array([.string("555")]),
                    "colour": .string("blue"),
                ])
            #expect(response.status == .unprocessableContent)
            let error = try #require(try response.object()["error"] as? [String: Any])
            let fields = Set(((error["fields"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
            #expect(fields.isSuperset(of: ["account_sid", "auth_token", "from_numbers[0]", "colour"]))
            #expect(try await storedDocument(harness, "TWILIO_CONFIGURATION") == nil)
            let events = try await client.send(.get, "/api/v1/organizations/acme/audit-events", key: harness.acmeAdmin)
            #expect(!events.text.contains("configuration.create"))
        }
    }

    @Test func anUnknownKeyIs422OnWriteAnd404OnRead() async throws {
        try await AppHarness.run { harness, client in
            let put = try await client.send(
                .put, "\(Self.path)/SKYPE_CONFIGURATION", key: harness.acmeAdmin, json: ["a": .string("b")])
            #expect(put.status == .unprocessableContent)
            do {
                let response = try await client.send(.get, "\(Self.path)/SKYPE_CONFIGURATION", key: harness.acmeAdmin)
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func aStaleIfMatchIs412AndChangesNothing() async throws {
        try await AppHarness.run { harness, client in
            try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument,
                headers: [.ifMatch: "\"1\""])
            var edited = AppHarness.twilioDocument
            edited["from_numbers"] = .array([.string("+14155550111")])
            let stale = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: edited,
                headers: [.ifMatch: "\"1\""])
            #expect(stale.status == .preconditionFailed)
            #expect(try stale.errorCode() == "version_mismatch")
            let deleted = try await client.send(
                .delete, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, headers: [.ifMatch: "\"1\""])
            #expect(deleted.status == .preconditionFailed)
            #expect(try await storedDocument(harness, "TWILIO_CONFIGURATION")?["from_numbers"]
                == .array([.string("+14155550100")]))
            let bad = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: edited,
                headers: [.ifMatch: "yesterday"])
            #expect(bad.status == .badRequest)
        }
    }

    @Test func concurrentPutsWithTheSameIfMatchLetExactlyOneWin() async throws {
        try await AppHarness.run(mode: .live) { harness, client in
            try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        var edited = AppHarness.twilioDocument
                        edited["from_numbers"] = .array([.string("+1415555012\(index)")])
                        return try await client.send(
                            .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: edited,
                            headers: [.ifMatch: "\"1\""]
                        ).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .preconditionFailed }.count == 5)
        }
    }

    @Test func theDefaultProviderMustBeConfiguredAndCannotBeDeletedWhileChosen() async throws {
        try await AppHarness.run { harness, client in
            let early = try await client.send(
                .put, "\(Self.path)/TELEPHONY_PROVIDER", key: harness.acmeAdmin, json: ["provider": .string("twilio")])
            #expect(early.status == .unprocessableContent)
            #expect(early.text.contains("TWILIO_CONFIGURATION"))
            try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            let chosen = try await client.send(
                .put, "\(Self.path)/TELEPHONY_PROVIDER", key: harness.acmeAdmin, json: ["provider": .string("twilio")])
            #expect(chosen.status == .created)
            let delete = try await client.send(
                .delete, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, headers: [.ifMatch: "\"1\""])
            #expect(delete.status == .conflict)
            #expect(try delete.errorCode() == "provider_in_use")
            do {
                let response = try await client.send(
                    .delete, "\(Self.path)/TELEPHONY_PROVIDER", key: harness.acmeAdmin, headers: [.ifMatch: "\"1\""])
                #expect(response.status == .noContent)
            }
            do {
                let response = try await client.send(
                    .delete, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, headers: [.ifMatch: "\"1\""])
                #expect(response.status == .noContent)
            }
            do {
                let response = try await client.send(.get, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin)
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func replacingOrDeletingAStoredDocumentWithoutIfMatchIs428AndChangesNothing() async throws {
        try await AppHarness.run { harness, client in
            let created = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            #expect(created.status == .created, "a first PUT needs no If-Match")
            var edited = AppHarness.twilioDocument
            edited["from_numbers"] = .array([.string("+14155550111")])
            let put = try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: edited)
            #expect(put.status == .preconditionRequired)
            #expect(try put.errorCode() == "precondition_required")
            let delete = try await client.send(.delete, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin)
            #expect(delete.status == .preconditionRequired)
            #expect(try delete.errorCode() == "precondition_required")
            let stored = try #require(
                try await harness.dependencies.configurations.get(
                    organizationID: harness.acme.id, key: "TWILIO_CONFIGURATION", logger: TestDatabase.logger))
            #expect(stored.version == 1)
            #expect(try await storedDocument(harness, "TWILIO_CONFIGURATION")?["from_numbers"]
                == .array([.string("+14155550100")]))
        }
    }

    /// A DELETE of the Twilio document and a PUT choosing Twilio as TELEPHONY_PROVIDER, racing:
    /// the delete has passed its "not the default" check and waits (the test holds the row) while
    /// the PUT passes its "is configured" check. Whichever order PostgreSQL lets them commit in,
    /// TELEPHONY_PROVIDER never ends up naming a provider that is not stored.
    @Test func aConcurrentDeleteAndChoiceOfTheSameProviderNeverLeaveTheDefaultUnconfigured() async throws {
        try await AppHarness.run(mode: .live) { harness, client in
            try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            try await client.send(
                .put, "\(Self.path)/PLIVO_CONFIGURATION", key: harness.acmeAdmin,
                json: [
                    "auth_id": .string("MAODUZYTQ0Y2FMYJBLOW"), "auth_token": .string("test-only-plivo-auth-token"),
                    "from_numbers": .array([.string("+14155550100")]),
                ])
            let plivo = try await client.send(
                .put, "\(Self.path)/TELEPHONY_PROVIDER", key: harness.acmeAdmin, json: ["provider": .string("plivo")])
            #expect(plivo.status == .created, "\(plivo.text)")
            let statuses = try await harness.postgres.withConnection { connection in
                try await connection.query("BEGIN", logger: TestDatabase.logger)
                try await connection.query(
                    """
                    SELECT 1 FROM organization_configuration
                    WHERE organization_id = \(harness.acme.id) AND key = 'TWILIO_CONFIGURATION' FOR UPDATE
                    """, logger: TestDatabase.logger)
                async let delete = client.send(
                    .delete, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, headers: [.ifMatch: "\"1\""])
                try await Task.sleep(for: .milliseconds(400))
                async let choose = client.send(
                    .put, "\(Self.path)/TELEPHONY_PROVIDER", key: harness.acmeAdmin, json: ["provider": .string("twilio")],
                    headers: [.ifMatch: "\"1\""])
                try await Task.sleep(for: .milliseconds(400))
                try await connection.query("COMMIT", logger: TestDatabase.logger)
                return try await (delete.status, choose.status)
            }
            let chosen = try await storedDocument(harness, "TELEPHONY_PROVIDER")?["provider"]?.stringValue
            let twilioStored = try await storedDocument(harness, "TWILIO_CONFIGURATION") != nil
            #expect(chosen != "twilio" || twilioStored, "TELEPHONY_PROVIDER names a deleted provider (\(statuses))")
            // Exactly one of the two took effect, and the other was refused for the right reason.
            #expect(
                (statuses.0 == .noContent && statuses.1 == .unprocessableContent)
                    || (statuses.0 == .conflict && statuses.1 == .ok), "\(statuses)")
        }
    }

    @Test func rotationKeepsThePreviousSecretInGraceAndShowsUntilWhen() async throws {
        try await AppHarness.run { harness, client in
            try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            let rotate = try await client.send(
                .post, "\(Self.path)/TWILIO_CONFIGURATION/rotate", key: harness.acmeAdmin,
                json: ["auth_token": .string(AppHarness.Secrets.rotatedAuthToken), "grace_period_seconds": .number(7200)])
            #expect(rotate.status == .ok)
            #expect(!rotate.text.contains(AppHarness.Secrets.rotatedAuthToken))
            let body = try rotate.object()
            #expect(body["version"] as? Int == 2)
            let previous = try #require(body["previous_secret"] as? [String: Any])
            #expect(previous["in_grace"] as? Bool == true)
            let until = try #require((previous["valid_until"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(until.timeIntervalSinceNow - 7200) < 60)
            let opened = try #require(
                try await harness.dependencies.configurations.open(
                    organizationID: harness.acme.id, key: "TWILIO_CONFIGURATION", logger: TestDatabase.logger))
            #expect(String(decoding: opened.document, as: UTF8.self).contains(AppHarness.Secrets.rotatedAuthToken))
            #expect(String(decoding: try #require(opened.previousDocument), as: UTF8.self)
                .contains(AppHarness.Secrets.twilioAuthToken))
        }
    }

    @Test func replacingASecretByPutEndsTheGraceOfTheOldOne() async throws {
        try await AppHarness.run { harness, client in
            try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            try await client.send(
                .post, "\(Self.path)/TWILIO_CONFIGURATION/rotate", key: harness.acmeAdmin,
                json: ["auth_token": .string(AppHarness.Secrets.rotatedAuthToken)])
            // A PUT that changes only non-secret fields keeps the grace window…
            var numbers = AppHarness.twilioDocument
            numbers["auth_token"] = .string("****" + String(AppHarness.Secrets.rotatedAuthToken.suffix(4)))
            numbers["from_numbers"] = .array([.string("+14155550111")])
            let kept = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: numbers, headers: [.ifMatch: "\"2\""])
            #expect((try kept.object()["previous_secret"] as? [String: Any])?["in_grace"] as? Bool == true)
            // …one that replaces the secret (say, after a leak) ends it.
            var replaced = numbers
            replaced["auth_token"] = .string("00112233445566778899aabbccddeeff")
            let dropped = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: replaced, headers: [.ifMatch: "\"3\""])
            #expect((try dropped.object()["previous_secret"] as? [String: Any])?["in_grace"] as? Bool == false)
            let opened = try await harness.dependencies.configurations.open(
                organizationID: harness.acme.id, key: "TWILIO_CONFIGURATION", logger: TestDatabase.logger)
            #expect(opened?.previousDocument == nil)
        }
    }

    @Test(arguments: [
        #"{"account_sid":"AC0123456789abcdef0123456789abcdef"}"#,
        #"{}"#,
        #"{"auth_token":"fedcba9876543210fedcba9876543210","grace_period_seconds":604801}"#,
        #"{"auth_token":"fedcba9876543210fedcba9876543210","grace_period_seconds":1.5}"#,
    ])
    func badRotationsAre422AndChangeNothing(_ body: String) async throws {
        try await AppHarness.run { harness, client in
            try await client.send(.put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin, json: AppHarness.twilioDocument)
            let response = try await client.send(
                .post, "\(Self.path)/TWILIO_CONFIGURATION/rotate", key: harness.acmeAdmin, raw: body)
            #expect(response.status == .unprocessableContent)
            let get = try await client.send(.get, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeAdmin)
            #expect(try get.object()["version"] as? Int == 1)
        }
    }

    @Test func aServiceKeyReadsButCannotWrite() async throws {
        try await AppHarness.run { harness, client in
            let put = try await client.send(
                .put, "\(Self.path)/TWILIO_CONFIGURATION", key: harness.acmeService, json: AppHarness.twilioDocument)
            #expect(put.status == .forbidden)
            do {
                let response = try await client.send(.get, Self.path, key: harness.acmeService)
                #expect(response.status == .ok)
            }
            #expect(try await storedDocument(harness, "TWILIO_CONFIGURATION") == nil)
        }
    }
}
