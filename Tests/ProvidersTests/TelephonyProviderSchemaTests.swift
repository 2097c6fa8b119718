import Providers
import Testing

@Suite struct TelephonyProviderSchemaTests {
    let schema = ConfigurationSchema.forKey(.telephonyProvider)

    @Test(arguments: ProviderName.allCases)
    func acceptsEveryProviderName(provider: ProviderName) throws {
        let normalized = try schema.validate(["provider": .string(provider.rawValue)])

        #expect(normalized == ["provider": .string(provider.rawValue)])
    }

    @Test func rejectsAnUnknownProvider() {
        let problems = schema.problems(in: ["provider": "bandwidth"])

        #expect(problems == [FieldError(field: "provider", problem: "must be one of twilio, telnyx, vonage, plivo")])
    }

    @Test func normalizesTheProviderNameToLowercase() throws {
        let normalized = try schema.validate(["provider": " Twilio "])

        #expect(normalized == ["provider": "twilio"])
    }
}
