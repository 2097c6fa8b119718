import Foundation

/// Phone numbers as people write them, turned into E.164 (`+` and 7 to 15 digits, no leading 0).
///
/// Spaces (any Unicode whitespace), dashes, dots, slashes and parentheses are separators and
/// dropped. A leading `+` or `00` makes the number international: the digits after it are the
/// country code and number, and a `(0)` written after the country code (`+44 (0)20 …`) is the
/// trunk prefix, dropped. Anything else is a national number of the default country: its trunk
/// prefix (when the country has one) is dropped, the rest must have that country's length, and the
/// country's calling code is put in front. International numbers are checked against E.164 only
/// (and, for +1, the North American plan), since the table does not know every country.
enum PhoneNumberNormalizer {
    /// A country's national numbering, as far as normalising needs it.
    struct Country: Sendable, Equatable {
        /// ISO 3166-1 alpha-2, uppercase.
        let code: String
        let callingCode: String
        /// Dialled before national numbers inside the country and not part of E.164 (e.g. 0); nil when none.
        let trunkPrefix: String?
        /// Digits of the national significant number (after the trunk prefix).
        let nationalLengths: ClosedRange<Int>
        /// Italy: the leading 0 of landlines is part of the number, not a trunk prefix.
        var keepsLeadingZero = false
        /// The North American plan: area codes start with 2-9.
        var isNorthAmerican = false
    }

    /// Why a value is not a phone number; the message is meant for the person who wrote it.
    struct Failure: Error, Equatable, CustomStringConvertible {
        let description: String
    }

    /// The countries national numbers can be read for, by ISO code.
    static let countries: [String: Country] = Dictionary(
        uniqueKeysWithValues: [
            Country(code: "US", callingCode: "1", trunkPrefix: "1", nationalLengths: 10...10, isNorthAmerican: true),
            Country(code: "CA", callingCode: "1", trunkPrefix: "1", nationalLengths: 10...10, isNorthAmerican: true),
            Country(code: "GB", callingCode: "44", trunkPrefix: "0", nationalLengths: 7...10),
            Country(code: "DE", callingCode: "49", trunkPrefix: "0", nationalLengths: 6...13),
            Country(code: "FR", callingCode: "33", trunkPrefix: "0", nationalLengths: 9...9),
            Country(code: "ES", callingCode: "34", trunkPrefix: nil, nationalLengths: 9...9),
            Country(code: "IT", callingCode: "39", trunkPrefix: nil, nationalLengths: 6...11, keepsLeadingZero: true),
            Country(code: "NL", callingCode: "31", trunkPrefix: "0", nationalLengths: 9...9),
            Country(code: "AU", callingCode: "61", trunkPrefix: "0", nationalLengths: 9...9),
            Country(code: "IN", callingCode: "91", trunkPrefix: "0", nationalLengths: 10...10),
            Country(code: "BR", callingCode: "55", trunkPrefix: "0", nationalLengths: 10...11),
            Country(code: "MX", callingCode: "52", trunkPrefix: nil, nationalLengths: 10...10),
            Country(code: "IE", callingCode: "353", trunkPrefix: "0", nationalLengths: 7...9),
        ].map { ($0.code, $0) })

    /// The default country when a request names none.
    static let defaultCountry = countries["US"] ?? Country(
        code: "US", callingCode: "1", trunkPrefix: "1", nationalLengths: 10...10, isNorthAmerican: true)

    /// The country of an ISO 3166-1 alpha-2 code (any case); nil when the table does not have it.
    static func country(_ code: String) -> Country? {
        countries[code.trimmingCharacters(in: .whitespaces).uppercased()]
    }

    /// The supported country codes, sorted, for error messages.
    static var supportedCountryCodes: String { countries.keys.sorted().joined(separator: ", ") }

    /// `raw` in E.164, reading a national number as one of `country`.
    static func normalize(_ raw: String, defaultCountry country: Country) throws(Failure) -> String {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw Failure(description: "the phone number is empty") }
        guard text.unicodeScalars.count <= 64 else { throw Failure(description: "the phone number is too long") }
        var international = text.hasPrefix("+")
        if international { text.removeFirst() }
        var digits = ""
        // Where a "(0)" was written, as a count of digits before it.
        var trunkMark: Int?
        var rest = Substring(text)
        while let character = rest.first {
            if rest.hasPrefix("(0)") && trunkMark == nil { trunkMark = digits.count }
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if !(character.isWhitespace || "-./()".contains(character)) {
                throw Failure(
                    description: "a phone number may hold only digits, a leading + and the separators space - . / ( )")
            }
            rest = rest.dropFirst()
        }
        if !international && digits.hasPrefix("00") {
            international = true
            digits.removeFirst(2)
            trunkMark = trunkMark.map { $0 - 2 }
        }
        guard international else { return try Self.national(digits, country: country) }
        if let mark = trunkMark, (1...3).contains(mark) {
            // "+44 (0)20 …": the national trunk prefix written after the country code.
            digits.remove(at: digits.index(digits.startIndex, offsetBy: mark))
        }
        return try Self.international(digits)
    }

    /// `+digits` when they are a country code and number E.164 accepts.
    static func international(_ digits: String) throws(Failure) -> String {
        guard (7...15).contains(digits.count), digits.first != "0" else {
            throw Failure(description: "an international number needs 7 to 15 digits after + or 00, not starting with 0")
        }
        if digits.hasPrefix("1") {
            try Self.checkNorthAmerican(String(digits.dropFirst()))
        }
        return try Self.e164(digits)
    }

    /// The E.164 form of a national number of `country`.
    static func national(_ digits: String, country: Country) throws(Failure) -> String {
        guard !digits.isEmpty else { throw Failure(description: "the phone number has no digits") }
        var significant = Substring(digits)
        if let trunk = country.trunkPrefix, significant.hasPrefix(trunk) {
            significant = significant.dropFirst(trunk.count)
        }
        let lengths = country.nationalLengths
        guard lengths.contains(significant.count) else {
            let expected =
                lengths.lowerBound == lengths.upperBound ? "\(lengths.lowerBound)" : "\(lengths.lowerBound)-\(lengths.upperBound)"
            let trunk = country.trunkPrefix.map { " after the trunk prefix \($0)" } ?? ""
            throw Failure(
                description:
                    "a national number of \(country.code) needs \(expected) digits\(trunk), not \(significant.count); "
                    + "write other countries' numbers with + or 00")
        }
        if significant.first == "0" && !country.keepsLeadingZero {
            throw Failure(description: "a national number of \(country.code) cannot start with 0 here")
        }
        if country.isNorthAmerican {
            try Self.checkNorthAmerican(String(significant))
        }
        return try Self.e164(country.callingCode + significant)
    }

    /// The North American plan: ten digits, the area code starting with 2-9.
    static func checkNorthAmerican(_ significant: String) throws(Failure) {
        guard significant.count == 10, let first = significant.first, ("2"..."9").contains(first) else {
            throw Failure(description: "a +1 number needs a 10-digit number whose area code starts with 2-9")
        }
    }

    /// `+digits`, checked against `^\+[1-9][0-9]{6,14}$` once more.
    static func e164(_ digits: String) throws(Failure) -> String {
        guard (7...15).contains(digits.count), let first = digits.first, first != "0",
            digits.allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            throw Failure(description: "the number is not a valid E.164 number")
        }
        return "+" + digits
    }
}
