/// An RFC 4180 CSV reader over UTF-8 bytes that keeps each record's physical line number.
///
/// Fields are separated by commas and records by CRLF, LF or a lone CR. A field that starts with
/// `"` (after optional spaces) is quoted: it may hold commas, line breaks and `""` for one quote,
/// and ends at the next lone `"` (spaces may follow before the separator). A quote inside an
/// unquoted field is kept as text. A leading UTF-8 byte order mark is skipped; blank lines
/// (nothing, or only separators and spaces) are not records. A record whose quoted field is not
/// closed, or has text after its closing quote, is returned with a `problem` so the caller can
/// reject that record alone.
enum CSVParser {
    /// One record: the 1-based physical line it starts on, its fields, and what is wrong with it.
    struct Record: Sendable, Equatable {
        let line: Int
        let fields: [String]
        var problem: String? = nil
    }

    /// Why the input is not CSV at all.
    enum Failure: Error, Equatable, CustomStringConvertible {
        /// A NUL byte: binary data.
        case binary
        /// Not valid UTF-8.
        case notUTF8
        /// More than the allowed number of records.
        case tooManyRecords(limit: Int)

        var description: String {
            switch self {
            case .binary: "the body is binary data (it contains NUL bytes), not CSV"
            case .notUTF8: "the body is not valid UTF-8; save the file as CSV UTF-8"
            case .tooManyRecords(let limit): "the file has more than \(limit) rows"
            }
        }
    }

    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The records of `bytes`, at most `maxRecords` of them (`.tooManyRecords` beyond).
    static func parse(_ bytes: [UInt8], maxRecords: Int) throws(Failure) -> [Record] {
        if bytes.contains(0) { throw .binary }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .notUTF8 }
        var reader = Reader(bytes: bytes, index: bytes.starts(with: byteOrderMark) ? byteOrderMark.count : 0)
        var records: [Record] = []
        while let record = reader.nextRecord() {
            if record.problem == nil && record.fields.allSatisfy({ $0.allSatisfy { $0 == " " || $0 == "\t" } }) {
                continue
            }
            guard records.count < maxRecords else { throw .tooManyRecords(limit: maxRecords) }
            records.append(record)
        }
        return records
    }

    /// The reading position: byte index and physical line.
    struct Reader {
        let bytes: [UInt8]
        var index: Int
        var line = 1

        /// The next record, blank or not; nil at the end of the input.
        mutating func nextRecord() -> Record? {
            guard index < bytes.count else { return nil }
            let start = line
            var fields: [String] = []
            var problem: String?
            while true {
                let (field, fieldProblem) = nextField()
                fields.append(field)
                if problem == nil { problem = fieldProblem }
                guard index < bytes.count, bytes[index] == CSVParser.comma else { break }
                index += 1
            }
            // At a line break or the end.
            if index < bytes.count {
                if bytes[index] == CSVParser.cr, index + 1 < bytes.count, bytes[index + 1] == CSVParser.lf { index += 1 }
                index += 1
                line += 1
            }
            return Record(line: start, fields: fields, problem: problem)
        }

        /// One field, ending before a comma, a line break or the end of the input.
        mutating func nextField() -> (String, String?) {
            var lookahead = index
            while lookahead < bytes.count, bytes[lookahead] == CSVParser.space || bytes[lookahead] == CSVParser.tab {
                lookahead += 1
            }
            guard lookahead < bytes.count, bytes[lookahead] == CSVParser.quote else {
                let start = index
                while index < bytes.count, !isSeparator(bytes[index]) { index += 1 }
                return (String(decoding: bytes[start..<index], as: UTF8.self), nil)
            }
            index = lookahead + 1
            var value: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                if byte == CSVParser.quote {
                    if index + 1 < bytes.count, bytes[index + 1] == CSVParser.quote {
                        value.append(CSVParser.quote)
                        index += 2
                        continue
                    }
                    index += 1
                    return (String(decoding: value, as: UTF8.self), afterClosingQuote())
                }
                if byte == CSVParser.lf || (byte == CSVParser.cr && !(index + 1 < bytes.count && bytes[index + 1] == CSVParser.lf)) {
                    line += 1
                }
                value.append(byte)
                index += 1
            }
            return (String(decoding: value, as: UTF8.self), "a quoted field is not closed before the end of the file")
        }

        /// Skips spaces after a closing quote; anything else before the separator is a problem
        /// (and is skipped up to the separator).
        mutating func afterClosingQuote() -> String? {
            while index < bytes.count, bytes[index] == CSVParser.space || bytes[index] == CSVParser.tab { index += 1 }
            guard index < bytes.count, !isSeparator(bytes[index]) else { return nil }
            while index < bytes.count, !isSeparator(bytes[index]) { index += 1 }
            return "text follows a closing quote; quotes inside a quoted field must be doubled (\"\")"
        }

        /// A comma or a line break.
        func isSeparator(_ byte: UInt8) -> Bool {
            byte == CSVParser.comma || byte == CSVParser.lf || byte == CSVParser.cr
        }
    }
}
