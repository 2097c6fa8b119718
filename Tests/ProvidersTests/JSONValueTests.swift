import Foundation
import Providers
import Testing

@Suite struct JSONValueTests {
    private func decode(_ json: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
    }

    @Test func decodesTrueAndFalseAsBooleansNotNumbers() throws {
        #expect(try decode("[true, false]") == [.bool(true), .bool(false)])
    }

    @Test func decodesOneAndZeroAsNumbersNotBooleans() throws {
        #expect(try decode("[1, 0]") == [.number(1), .number(0)])
    }

    @Test func decodesEveryKindOfValue() throws {
        let value = try decode(#"{"n": null, "b": true, "x": 1.5, "s": "text", "a": [1, "two"], "o": {"k": "v"}}"#)

        #expect(
            value == .object([
                "n": .null, "b": .bool(true), "x": .number(1.5), "s": .string("text"),
                "a": .array([.number(1), .string("two")]), "o": .object(["k": .string("v")]),
            ])
        )
    }

    @Test func survivesAnEncodeDecodeRoundTrip() throws {
        let value: JSONValue = ["n": .null, "b": false, "x": -2.25, "i": 42, "s": "é\n\"", "a": [[], [:]]]

        let decoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))

        #expect(decoded == value)
    }

    @Test func encodesWholeNumbersWithoutAFraction() throws {
        let json = try JSONEncoder().encode(JSONValue.array([5, 1.5]))

        #expect(String(decoding: json, as: UTF8.self) == "[5,1.5]")
    }

    @Test func offersTheValueOfEachKind() {
        #expect(JSONValue.string("s").stringValue == "s")
        #expect(JSONValue.number(2).doubleValue == 2)
        #expect(JSONValue.bool(true).boolValue == true)
        #expect(JSONValue.array([.null]).arrayValue == [.null])
        #expect(JSONValue.object(["k": .null]).objectValue == ["k": .null])
        #expect(JSONValue.number(2).stringValue == nil)
    }
}
