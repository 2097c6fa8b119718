import Foundation
import Persistence
import PostgresNIO
import TestSupport
import Testing

@testable import App

/// Conference and media-stream tokens survive the documented master-key rotation: a token minted
/// under key A still verifies once the keyring is `B,A` (new key first, instances restarted one by
/// one), and stops verifying once A is dropped.
@Suite struct TokenRotationTests {
    /// The production dependency graph under `keyring` (its PostgreSQL client is never run: tokens need no database).
    static func dependencies(_ keyring: MasterKeyring) throws -> AppDependencies {
        let postgres = PostgresClient(configuration: try HealthRoutesTests.unreachableDatabase(), backgroundLogger: TestDatabase.logger)
        return try AppDependencies.forTesting(postgres: postgres, keyring: keyring)
    }

    let a = MasterKeyring.generateKey(id: "a")
    let b = MasterKeyring.generateKey(id: "b")

    @Test func aConferenceTokenVerifiesAfterANewKeyIsPutFirstAndFailsOnceItsKeyIsDropped() throws {
        let before = try Self.dependencies(try MasterKeyring(keys: [a]))
        let rotated = try Self.dependencies(try MasterKeyring(keys: [b, a]))
        let dropped = try Self.dependencies(try MasterKeyring(keys: [b]))
        let organizationID = UUID()
        let conferenceID = UUID()
        let token = before.coldCalls.signedToken(
            organizationID: organizationID, conferenceID: conferenceID, role: .agent, clientID: "agent-7")

        let claim = try #require(rotated.conferenceTokens.claim(token, now: Date()))
        #expect(claim.conferenceID == conferenceID && claim.organizationID == organizationID)
        #expect(dropped.conferenceTokens.claim(token, now: Date()) == nil)
        #expect(dropped.conferenceTokens.claim(token, now: nil) == nil)
        // New tokens are signed with the new active key: they verify wherever B is held, not on an instance still on A alone.
        let fresh = rotated.coldCalls.signedToken(
            organizationID: organizationID, conferenceID: conferenceID, role: .contact)
        #expect(dropped.conferenceTokens.claim(fresh, now: Date()) != nil)
        #expect(before.conferenceTokens.claim(fresh, now: Date()) == nil)
    }

    @Test func aStreamTokenVerifiesAfterANewKeyIsPutFirstAndFailsOnceItsKeyIsDropped() throws {
        let before = try Self.dependencies(try MasterKeyring(keys: [a]))
        let rotated = try Self.dependencies(try MasterKeyring(keys: [b, a]))
        let dropped = try Self.dependencies(try MasterKeyring(keys: [b]))
        let organizationID = UUID()
        let expires = Int(Date().timeIntervalSince1970) + 600
        let token = before.telephony.streamTokens.streamToken(
            organizationID: organizationID, workflowID: "wf", workflowRunID: "run", expires: expires)

        #expect(rotated.telephony.streamTokens.isValidStreamToken(
            token, organizationID: organizationID, workflowID: "wf", workflowRunID: "run", expires: expires, now: Date()))
        #expect(!rotated.telephony.streamTokens.isValidStreamToken(
            token, organizationID: organizationID, workflowID: "wf", workflowRunID: "other", expires: expires, now: Date()))
        #expect(!dropped.telephony.streamTokens.isValidStreamToken(
            token, organizationID: organizationID, workflowID: "wf", workflowRunID: "run", expires: expires, now: Date()))
    }

    @Test func aTokenNamingAnotherKeyOrNoneIsCheckedOnlyAgainstThatKey() throws {
        let signer = TokenSigner(keyring: try MasterKeyring(keys: [b, a]), purpose: "test")
        let signature = signer.signature("message")
        #expect(signature.hasPrefix("b."))
        #expect(signer.verify(signature, of: "message"))
        #expect(!signer.verify(signature, of: "other message"))
        // The mac of B presented as A's does not verify; an unknown key id never does.
        #expect(!signer.verify("a." + signature.dropFirst(2), of: "message"))
        #expect(!signer.verify("c." + signature.dropFirst(2), of: "message"))
        // Tokens from before key ids: the bare mac, checked against the active key.
        #expect(signer.verify(String(signature.dropFirst(2)), of: "message"))
    }
}
