import Foundation

/// The RFC 2822 dates Twilio writes in `Timestamp` (`Mon, 16 Aug 2010 03:45:01 +0000`), parsed by
/// hand: a `DateFormatter` per webhook cost more than verifying the webhook's signature.
enum RFC2822Date {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `[Weekday, ]day Month year hours:minutes[:seconds] zone`, zone `±hhmm`, `GMT`, `UT`, `UTC` or `Z`; nil otherwise.
    static func parse(_ text: String) -> Date? {
        var parts = text.split(separator: " ")
        if let weekday = parts.first, weekday.hasSuffix(",") {
            parts.removeFirst()
        }
        guard parts.count == 5, let day = Int(parts[0]), let monthIndex = months.firstIndex(of: parts[1].lowercased()),
            let year = Int(parts[2]), (1900...9999).contains(year)
        else { return nil }
        let month = monthIndex + 1
        guard (1...daysIn(month: month, year: year)).contains(day) else { return nil }
        let clock = parts[3].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard clock.count == 2 || clock.count == 3, let hours = clock[0], let minutes = clock[1], (0...23).contains(hours),
            (0...59).contains(minutes)
        else { return nil }
        let seconds = clock.count == 3 ? clock[2] : 0
        guard let seconds, (0...60).contains(seconds), let offset = zoneOffset(parts[4]) else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hours * 3_600 + minutes * 60 + seconds - offset))
    }

    /// Seconds east of UTC.
    private static func zoneOffset(_ zone: Substring) -> Int? {
        switch zone.uppercased() {
        case "GMT", "UT", "UTC", "Z": return 0
        default: break
        }
        let bytes = Array(zone.utf8)
        guard bytes.count == 5, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
            let hours = Int(String(decoding: bytes[1...2], as: UTF8.self)),
            let minutes = Int(String(decoding: bytes[3...4], as: UTF8.self)), hours <= 23, minutes <= 59
        else { return nil }
        return (bytes[0] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3_600 + minutes * 60)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the civil date (Howard Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
