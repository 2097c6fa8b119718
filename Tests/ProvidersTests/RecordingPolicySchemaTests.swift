import Providers
import Testing

/// `RECORDING_POLICY` documents: validated like every configuration document.
@Suite struct RecordingPolicySchemaTests {
    let schema = ConfigurationSchema.forKey(.recordingPolicy)

    @Test func validPoliciesAreRead() throws {
        #expect(try RecordingPolicy(document: ["mode": "off"]) == .off)
        #expect(try RecordingPolicy(document: ["mode": "on"]).records)
        let announced = try RecordingPolicy(
            document: ["mode": "on_with_announcement", "announcement": "  This call is recorded.  "])
        #expect(announced == RecordingPolicy(mode: .onWithAnnouncement, announcement: "This call is recorded."))
        #expect(schema.secretFieldNames.isEmpty)
    }

    @Test(arguments: [
        (["mode": JSONValue.string("always")], ["mode"]),
        ([:], ["mode"]),
        (["mode": .string("on_with_announcement")], ["announcement"]),
        (["mode": .string("on"), "announcement": .string("")], ["announcement"]),
        (["mode": .string("on"), "announcement": .string(String(repeating: "a", count: 1001))], ["announcement"]),
        (["mode": .bool(true)], ["mode"]),
        (["mode": .string("on"), "record": .bool(true)], ["record"]),
    ])
    func invalidPoliciesListEveryBadField(_ document: [String: JSONValue], _ fields: [String]) {
        let error = #expect(throws: ConfigurationValidationError.self) { try schema.validate(document) }
        #expect(error?.errors.map(\.field) == fields, "\(String(describing: error))")
    }
}
