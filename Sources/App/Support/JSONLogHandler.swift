import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one JSON object per log line to standard error: time, level, label, message, metadata,
/// keys in byte order.
///
/// The line is encoded by hand (`JSONLine`): every request logs, and `JSONSerialization` with
/// sorted keys (locale-aware key comparison, bridging) cost more than the request itself.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = Self.line(
            event: event, label: label, metadata: metadata, provided: metadataProvider?.get(), now: Date())
        line.append(0x0A)
        FileHandle.standardError.write(Data(line))
    }

    /// The JSON object of one event, without the newline. Metadata wins over the fixed fields of
    /// the same name, as it always did.
    static func line(
        event: LogEvent, label: String, metadata: Logger.Metadata, provided: Logger.Metadata?, now: Date
    ) -> [UInt8] {
        var fields: [String: Logger.Metadata.Value] = [
            "time": .string(timestamp(now)), "level": .string(event.level.rawValue), "label": .string(label),
            "message": .string(event.message.description),
        ]
        for (key, value) in metadata { fields[key] = value }
        if let provided { for (key, value) in provided { fields[key] = value } }
        if let extra = event.metadata { for (key, value) in extra { fields[key] = value } }
        var line = JSONLine()
        line.append(.dictionary(fields))
        return line.bytes
    }

    /// `2026-11-21T08:23:10.553Z` (UTC, milliseconds).
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))T"
            + "\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))."
            + "\(padded(Int32(milliseconds % 1000), 3))Z"
    }
}

/// A JSON text built into bytes: objects with keys in byte order, strings escaped as
/// `JSONSerialization` does with `.withoutEscapingSlashes` (quote, backslash and control
/// characters; everything else as UTF-8).
struct JSONLine {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(256)
    }

    mutating func append(_ value: Logger.Metadata.Value) {
        switch value {
        case .string(let string):
            append(string: string)
        case .stringConvertible(let convertible):
            append(string: convertible.description)
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            bytes.append(UInt8(ascii: "{"))
            let keys = dictionary.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(string: key)
                bytes.append(UInt8(ascii: ":"))
                append(dictionary[key]!)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    mutating func append(string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")]
                bytes += [Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
