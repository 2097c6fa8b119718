import Foundation

/// The date formats the providers write, always in UTC.
enum Timestamp {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func components(_ date: Date) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond, .weekday], from: date)
    }

    private static func pad(_ value: Int?, _ width: Int = 2) -> String {
        let text = String(value ?? 0)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// RFC 2822, as Twilio writes it: `Tue, 04 Jun 2024 12:00:00 +0000`.
    static func rfc2822(_ date: Date) -> String {
        let parts = components(date)
        let weekday = weekdays[((parts.weekday ?? 1) - 1) % 7]
        let month = months[((parts.month ?? 1) - 1) % 12]
        return "\(weekday), \(pad(parts.day)) \(month) \(pad(parts.year, 4)) "
            + "\(pad(parts.hour)):\(pad(parts.minute)):\(pad(parts.second)) +0000"
    }

    /// ISO 8601 with milliseconds: `2024-06-04T12:00:00.123Z`.
    static func iso8601(_ date: Date) -> String {
        let parts = components(date)
        let milliseconds = (parts.nanosecond ?? 0) / 1_000_000
        return "\(pad(parts.year, 4))-\(pad(parts.month))-\(pad(parts.day))T"
            + "\(pad(parts.hour)):\(pad(parts.minute)):\(pad(parts.second)).\(pad(milliseconds, 3))Z"
    }

    /// ISO 8601 with microseconds, as Telnyx writes event times: `2018-02-02T22:25:27.521992Z`.
    static func iso8601Microseconds(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        let parts = components(Date(timeIntervalSince1970: whole))
        let microseconds = min(999_999, Int(((date.timeIntervalSince1970 - whole) * 1_000_000).rounded()))
        return "\(pad(parts.year, 4))-\(pad(parts.month))-\(pad(parts.day))T"
            + "\(pad(parts.hour)):\(pad(parts.minute)):\(pad(parts.second)).\(pad(microseconds, 6))Z"
    }

    /// Plivo's format: `2024-06-04 12:00:00+00:00`.
    static func plivo(_ date: Date) -> String {
        let parts = components(date)
        return "\(pad(parts.year, 4))-\(pad(parts.month))-\(pad(parts.day)) "
            + "\(pad(parts.hour)):\(pad(parts.minute)):\(pad(parts.second))+00:00"
    }

    /// Plivo's `SessionStart`: UTC with microseconds and no zone, `2022-06-28 14:09:04.050872`.
    static func plivoSession(_ date: Date) -> String {
        let text = iso8601Microseconds(date)
        return String(text.dropLast()).replacingOccurrences(of: "T", with: " ")
    }

    /// A date as `YYYY-MM-DD`.
    static func day(_ date: Date) -> String {
        let parts = components(date)
        return "\(pad(parts.year, 4))-\(pad(parts.month))-\(pad(parts.day))"
    }
}
