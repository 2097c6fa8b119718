import Providers
import Testing

@Suite struct OdooConfigurationSchemaTests {
    func problems(_ changes: [String: JSONValue]) -> [FieldError] {
        do {
            _ = try ConfigurationSchema.forKey(.odoo).validate(Fixtures.odooDocument.merging(changes) { $1 })
            return []
        } catch {
            return error.errors
        }
    }

    @Test func apiKeyIsTheOnlySecret() {
        #expect(ConfigurationSchema.forKey(.odoo).secretFieldNames == ["api_key"])
        #expect(ConfigurationKey.odoo.provider == nil)
    }

    @Test func refusesANonHTTPURLOrOneWithAQuery() {
        #expect(problems(["url": "ftp://odoo.example.com"]).map(\.field) == ["url"])
        #expect(problems(["url": "https://odoo.example.com/?db=x"]).map(\.field) == ["url"])
        #expect(problems(["url": "https://user:pw@odoo.example.com"]).map(\.field) == ["url"])
    }

    @Test func normalizesATrailingSlashAway() throws {
        let document = try ConfigurationSchema.forKey(.odoo).validate(
            Fixtures.odooDocument.merging(["url": "https://odoo.example.com/"]) { $1 })
        #expect(document["url"] == "https://odoo.example.com")
    }

    @Test func refusesAMalformedDomain() {
        #expect(problems(["domain": "customer"]).map(\.field) == ["domain"])
        #expect(problems(["domain": [["name", "~", "x"]]]).map(\.field) == ["domain[0]"])
        #expect(problems(["domain": ["|", ["name", "=", "x"]]]).map(\.field) == ["domain"])
        #expect(problems(["domain": [["name", "=", ["a": 1]]]]).map(\.field) == ["domain[0]"])
        #expect(problems(["domain": ["!", ["name", "=", "x"]]]).isEmpty)
    }

    @Test func writeBackMustBeABoolean() {
        #expect(problems(["write_back": "yes"]).map(\.field) == ["write_back"])
    }
}
