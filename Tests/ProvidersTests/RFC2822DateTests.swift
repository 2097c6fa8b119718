import Foundation
import Testing

@testable import Providers

/// Twilio's `Timestamp` parsing, without a DateFormatter.
@Suite struct RFC2822DateTests {
    @Test func parsesTwilioTimestamps() {
        #expect(RFC2822Date.parse("Mon, 16 Aug 2010 03:45:01 +0000") == Date(timeIntervalSince1970: 1_281_930_301))
        #expect(RFC2822Date.parse("Fri, 21 Nov 2025 08:03:10 GMT") == Date(timeIntervalSince1970: 1_763_712_190))
        #expect(RFC2822Date.parse("29 Feb 2024 00:00:00 +0000") == Date(timeIntervalSince1970: 1_709_164_800))
    }

    @Test func appliesTheZoneOffset() {
        #expect(RFC2822Date.parse("Sun, 15 Aug 2010 20:45:01 -0700") == Date(timeIntervalSince1970: 1_281_930_301))
        #expect(RFC2822Date.parse("Mon, 16 Aug 2010 05:15:01 +0130") == Date(timeIntervalSince1970: 1_281_930_301))
    }

    @Test func agreesWithDateFormatter() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        for seconds in stride(from: 0, to: 4_000_000_000, by: 97_654_321) {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            #expect(RFC2822Date.parse(formatter.string(from: date)) == date)
        }
    }

    @Test(arguments: [
        "", "Mon, 16 Aug 2010", "Mon, 32 Aug 2010 03:45:01 +0000", "Mon, 30 Feb 2010 03:45:01 +0000",
        "Mon, 16 Foo 2010 03:45:01 +0000", "Mon, 16 Aug 2010 24:45:01 +0000", "Mon, 16 Aug 2010 03:45:01 +00",
        "Mon, 16 Aug 2010 03:45:01 EST5", "2010-08-16T03:45:01Z",
    ])
    func refusesWhatIsNotADate(_ text: String) {
        #expect(RFC2822Date.parse(text) == nil)
    }
}
