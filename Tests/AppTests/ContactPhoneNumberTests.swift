import Testing

@testable import App

/// Phone numbers as people write them, normalised to E.164.
@Suite struct ContactPhoneNumberTests {
    /// `raw` normalised for the country `country`.
    func normalize(_ raw: String, _ country: String = "US") throws -> String {
        try PhoneNumberNormalizer.normalize(raw, defaultCountry: #require(PhoneNumberNormalizer.country(country)))
    }

    @Test(arguments: [
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("1-415-555-0100", "US", "+14155550100"),
        ("  415 555 0100 ", "us", "+14155550100"),
        ("613-555-0199", "CA", "+16135550199"),
        ("07911 123456", "GB", "+447911123456"),
        ("020 7946 0000", "GB", "+442079460000"),
        ("7911 123456", "GB", "+447911123456"),
        ("030 1234567", "DE", "+49301234567"),
        ("030/1234567", "DE", "+49301234567"),
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("612 345 678", "ES", "+34612345678"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("312 345 6789", "IT", "+393123456789"),
        ("06-12345678", "NL", "+31612345678"),
        ("0412 345 678", "AU", "+61412345678"),
        ("098765 43210", "IN", "+919876543210"),
        ("(11) 91234-5678", "BR", "+5511912345678"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("087 123 4567", "IE", "+353871234567"),
    ])
    func nationalNumbersOfTheDefaultCountry(_ raw: String, _ country: String, _ expected: String) throws {
        #expect(try normalize(raw, country) == expected)
    }

    @Test(arguments: [
        ("+44 20 7946 0000", "+442079460000"),
        ("0044 20 7946 0000", "+442079460000"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("00 44 (0) 20 7946 0000", "+442079460000"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+49-30-1234567", "+49301234567"),
        ("0033 1 23 45 67 89", "+33123456789"),
        ("+81 3-1234-5678", "+81312345678"),
        ("+353 87 123 4567", "+353871234567"),
    ])
    func internationalNumbersWithPlusOrDoubleZeroIgnoreTheDefaultCountry(_ raw: String, _ expected: String) throws {
        #expect(try normalize(raw, "GB") == expected)
        #expect(try normalize(raw, "US") == expected)
    }

    @Test(arguments: [
        ("", "US"), ("   ", "US"), ("12345", "US"), ("415 555 010", "US"), ("415 555 01000", "US"),
        ("0415 555 0100", "US"), ("115 555 0100", "US"), ("+0 20 7946 0000", "US"), ("+44 20", "US"),
        ("+1 415 555", "US"), ("+1234567890123456", "US"), ("1-800-FLOWERS", "US"), ("415 555 0100 x12", "US"),
        ("+44 20 +7946", "US"), ("020 7946", "GB"), ("012 345 678", "ES"), ("４１５５５５０１００", "US"),
        ("ext", "US"), ("00", "US"),
    ])
    func invalidNumbersAreRefusedWithAReason(_ raw: String, _ country: String) throws {
        let countryRules = try #require(PhoneNumberNormalizer.country(country))
        #expect(throws: PhoneNumberNormalizer.Failure.self, "\(raw)") {
            try PhoneNumberNormalizer.normalize(raw, defaultCountry: countryRules)
        }
    }

    @Test func everyResultIsE164() throws {
        let pattern = /^\+[1-9][0-9]{6,14}$/
        for country in PhoneNumberNormalizer.countries.values {
            for digits in [6, 7, 8, 9, 10, 11, 12, 13, 14] {
                let raw = "0" + String(repeating: "5", count: digits)
                if let result = try? PhoneNumberNormalizer.normalize(raw, defaultCountry: country) {
                    #expect(result.wholeMatch(of: pattern) != nil, "\(country.code) \(raw) gave \(result)")
                }
            }
        }
    }

    @Test func countryCodesAreReadInAnyCaseAndUnknownOnesAreNil() {
        #expect(PhoneNumberNormalizer.country("gb")?.callingCode == "44")
        #expect(PhoneNumberNormalizer.country("IE")?.trunkPrefix == "0")
        #expect(PhoneNumberNormalizer.country("XX") == nil)
        #expect(PhoneNumberNormalizer.country("") == nil)
        #expect(PhoneNumberNormalizer.defaultCountry.code == "US")
    }
}
