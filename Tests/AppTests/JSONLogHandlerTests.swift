import Foundation
import Logging
import Testing

@testable import App

/// The hand-written JSON log line: valid JSON, keys sorted, strings escaped, metadata merged.
@Suite struct JSONLogHandlerTests {
    func event(_ message: Logger.Message, metadata: Logger.Metadata? = nil) -> LogEvent {
        LogEvent(level: .warning, message: message, metadata: metadata, source: nil, file: #fileID, function: #function, line: #line)
    }

    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func aLineIsOneJSONObjectWithSortedKeys() throws {
        let bytes = JSONLogHandler.line(
            event: event("request", metadata: ["status": .stringConvertible(204), "path": "/a/b"]), label: "switchboard",
            metadata: ["request_id": "r1"], provided: nil, now: Date(timeIntervalSince1970: 1_763_712_190.553))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("\n"))
        #expect(
            text
                == #"{"label":"switchboard","level":"warning","message":"request","path":"/a/b","request_id":"r1","status":"204","time":"2025-11-21T08:03:10.553Z"}"#
        )
    }

    @Test func stringsAreEscapedLikeJSONSerialization() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} é ☎ / 🙂"
        let bytes = JSONLogHandler.line(
            event: event("\(tricky)"), label: "l", metadata: ["nested": ["list": ["a", "\u{01}"]]], provided: nil, now: Date())
        let decoded = try object(bytes)
        #expect(decoded["message"] as? String == tricky)
        #expect(((decoded["nested"] as? [String: Any])?["list"] as? [String]) == ["a", "\u{01}"])
        #expect(String(decoding: bytes, as: UTF8.self).contains(#"\u0007"#))
        #expect(String(decoding: bytes, as: UTF8.self).contains("/ 🙂"))
    }

    @Test func eventMetadataWinsOverHandlerMetadataAndFixedFields() throws {
        let bytes = JSONLogHandler.line(
            event: event("m", metadata: ["key": "event", "label": "overridden"]), label: "l",
            metadata: ["key": "handler", "other": "kept"], provided: ["key": "provided"], now: Date())
        let decoded = try object(bytes)
        #expect(decoded["key"] as? String == "event")
        #expect(decoded["other"] as? String == "kept")
        #expect(decoded["label"] as? String == "overridden")
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 1_700_000_000.0429)) == "2023-11-14T22:13:20.042Z")
    }
}
