import Providers
import Testing

@Suite struct CallPolicySchemaTests {
    let schema = ConfigurationSchema.forKey(.callPolicy)

    @Test func readsEveryFieldOfAValidPolicy() throws {
        let policy = try CallPolicyDocument(document: [
            "allowed_destination_prefixes": [" +1 ", "+4420"], "max_calls_per_minute": 30, "max_concurrent_calls": 5.0,
        ])

        #expect(policy == CallPolicyDocument(allowedDestinationPrefixes: ["+1", "+4420"], maxCallsPerMinute: 30, maxConcurrentCalls: 5))
    }

    @Test func anEmptyPolicyLeavesEveryFieldToItsDefault() throws {
        #expect(try CallPolicyDocument(document: [:]) == CallPolicyDocument())
    }

    @Test func rejectsPrefixesThatAreNotE164Beginnings() {
        let problems = schema.problems(in: ["allowed_destination_prefixes": ["1", "+", "+0", "+44a", "+1", "+1", 44]])

        #expect(
            problems == [
                FieldError(field: "allowed_destination_prefixes[0]", problem: "must be + followed by 1 to 15 digits, such as +1 or +4420"),
                FieldError(field: "allowed_destination_prefixes[1]", problem: "must be + followed by 1 to 15 digits, such as +1 or +4420"),
                FieldError(field: "allowed_destination_prefixes[2]", problem: "must be + followed by 1 to 15 digits, such as +1 or +4420"),
                FieldError(field: "allowed_destination_prefixes[3]", problem: "must be + followed by 1 to 15 digits, such as +1 or +4420"),
                FieldError(field: "allowed_destination_prefixes[5]", problem: "is listed twice"),
                FieldError(field: "allowed_destination_prefixes[6]", problem: "must be a string"),
            ])
        #expect(!schema.problems(in: ["allowed_destination_prefixes": []]).isEmpty)
    }

    @Test func rejectsLimitsThatAreNotWholePositiveNumbers() {
        let problems = schema.problems(in: [
            "max_calls_per_minute": 0, "max_concurrent_calls": 2.5,
        ])

        #expect(
            problems == [
                FieldError(field: "max_calls_per_minute", problem: "must be a whole number from 1 to 100000"),
                FieldError(field: "max_concurrent_calls", problem: "must be a whole number from 1 to 100000"),
            ])
        #expect(!schema.problems(in: ["max_calls_per_minute": "60"]).isEmpty)
        #expect(schema.problems(in: ["max_calls_per_minute": 60, "unknown": 1]) == [FieldError(field: "unknown", problem: "is not a known field")])
    }
}
