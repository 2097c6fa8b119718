import Foundation

/// How the console shows values.
enum ConsoleFormat {
    /// `2026-12-03 14:05 UTC`.
    static func date(_ date: Date?) -> String? {
        guard let date else { return nil }
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar
    }()

    /// A plausible email address: one `@`, something on each side, a dot in the domain, no spaces.
    static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !parts[1].hasSuffix(".") && (3...254).contains(email.count)
            && !email.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "<" || $0 == ">" })
    }
}

/// The generic confirmation page (`confirm.mustache`): a question, Confirm (POST) and Cancel.
struct ConfirmContent: Sendable {
    let question: String
    let detail: String
    let action: String
    let cancel: String
}

/// The plain message page (`error.mustache`).
struct MessageContent: Sendable {
    let status: Int
    let message: String
}
