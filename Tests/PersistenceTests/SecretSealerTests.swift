import Foundation
import Persistence
import Testing

@Suite struct SecretSealerTests {
    let organization = UUID()
    let document = Data(#"{"auth_token":"0123456789abcdef0123456789abcdef"}"#.utf8)

    @Test func opensWhatItSealed() throws {
        let sealer = SecretSealer(keyring: try MasterKeyring(keys: [MasterKeyring.generateKey(id: "k1")]))
        let sealed = try sealer.seal(document, organizationID: organization, key: "TWILIO_CONFIGURATION")
        #expect(sealed.keyID == "k1")
        #expect(try sealer.open(sealed, organizationID: organization, key: "TWILIO_CONFIGURATION") == document)
    }

    @Test func usesAFreshNonceForEverySeal() throws {
        let sealer = SecretSealer(keyring: try MasterKeyring(keys: [MasterKeyring.generateKey(id: "k1")]))
        let first = try sealer.seal(document, organizationID: organization, key: "K")
        let second = try sealer.seal(document, organizationID: organization, key: "K")
        #expect(first.bytes != second.bytes)
        #expect(first.bytes.prefix(12) != second.bytes.prefix(12))
    }

    @Test func refusesAValueMovedToAnotherOrganization() throws {
        let sealer = SecretSealer(keyring: try MasterKeyring(keys: [MasterKeyring.generateKey(id: "k1")]))
        let sealed = try sealer.seal(document, organizationID: organization, key: "K")
        #expect(throws: SealingError.authenticationFailed(keyID: "k1")) {
            try sealer.open(sealed, organizationID: UUID(), key: "K")
        }
    }

    @Test func refusesAValueMovedToAnotherKeyOrSlot() throws {
        let sealer = SecretSealer(keyring: try MasterKeyring(keys: [MasterKeyring.generateKey(id: "k1")]))
        let sealed = try sealer.seal(document, organizationID: organization, key: "K")
        #expect(throws: SealingError.self) { try sealer.open(sealed, organizationID: organization, key: "OTHER") }
        #expect(throws: SealingError.self) {
            try sealer.open(sealed, organizationID: organization, key: "K", slot: .previous)
        }
    }

    @Test func refusesTamperedBytes() throws {
        let sealer = SecretSealer(keyring: try MasterKeyring(keys: [MasterKeyring.generateKey(id: "k1")]))
        let sealed = try sealer.seal(document, organizationID: organization, key: "K")
        var bytes = sealed.bytes
        bytes[20] ^= 0x01
        #expect(throws: SealingError.authenticationFailed(keyID: "k1")) {
            try sealer.open(SealedValue(keyID: "k1", bytes: bytes), organizationID: organization, key: "K")
        }
    }

    @Test func namesAnUnknownMasterKey() throws {
        let old = SecretSealer(keyring: try MasterKeyring(keys: [MasterKeyring.generateKey(id: "old")]))
        let new = SecretSealer(keyring: try MasterKeyring(keys: [MasterKeyring.generateKey(id: "new")]))
        let sealed = try old.seal(document, organizationID: organization, key: "K")
        let error = #expect(throws: SealingError.self) { try new.open(sealed, organizationID: organization, key: "K") }
        #expect(error == .unknownKeyID("old"))
        #expect(error?.description.contains("'old'") == true)
    }
}

@Suite struct MasterKeyringTests {
    static let validKey = Data(repeating: 7, count: 32).base64EncodedString()

    @Test func parsesSeveralKeysWithTheFirstActive() throws {
        let keyring = try MasterKeyring(parsing: "new:\(Self.validKey), old:\(Self.validKey)")
        #expect(keyring.active.id == "new")
        #expect(keyring.keyIDs == ["new", "old"])
        #expect(keyring.key(withID: "old") != nil)
    }

    @Test(arguments: [
        "", "nocolon", "bad id:\(validKey)", "k:notbase64!", "k:\(Data(repeating: 1, count: 16).base64EncodedString())",
        "k:\(validKey),k:\(validKey)",
    ])
    func refusesMalformedValues(_ value: String) {
        let error = #expect(throws: MasterKeyring.ParseError.self) { try MasterKeyring(parsing: value) }
        #expect(error?.description.contains(Self.validKey) == false)
    }
}
