import Providers
import Testing

@Suite struct ConfigurationKeyTests {
    @Test(arguments: ProviderName.allCases)
    func eachProvidersKeyLeadsBackToTheProvider(provider: ProviderName) {
        #expect(provider.configurationKey.provider == provider)
    }

    @Test func theTelephonyProviderKeyBelongsToNoProvider() {
        #expect(ConfigurationKey.telephonyProvider.provider == nil)
    }

    @Test func keysUseTheirStoredNames() {
        #expect(ConfigurationKey.allCases.map(\.rawValue) == [
            "TWILIO_CONFIGURATION", "TELNYX_CONFIGURATION", "VONAGE_CONFIGURATION", "PLIVO_CONFIGURATION", "TELEPHONY_PROVIDER",
            "CALL_POLICY",
            "ODOO_CONFIGURATION",
            "RECORDING_POLICY",
        ])
    }
}
