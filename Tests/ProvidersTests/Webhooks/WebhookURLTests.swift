import Foundation
import Testing

@testable import Providers

/// The byte-level URL splitting the signature checks rebuild URLs with, and the base64 they compare.
@Suite struct WebhookURLTests {
    @Test func splitsAndRebuildsTheURLExactlyAsWritten() throws {
        for text in [
            "https://user:pw@example.com:8443/a/b?x=1&y=%2F#frag", "http://example.com", "https://example.com/?",
            "https://[::1]:443/p", "HTTPS://Example.COM/Path?Q", "https://exämple.com/ünïcode?q=é",
        ] {
            let url = try #require(WebhookURL(text))
            #expect(url.string == text)
        }
        let url = try #require(WebhookURL("https://user:pw@example.com:8443/a/b?x=1#frag"))
        #expect(url.scheme == "https")
        #expect(url.authority == "user:pw@example.com:8443")
        #expect(url.path == "/a/b")
        #expect(url.query == "x=1")
        #expect(url.fragment == "frag")
    }

    @Test func findsOnlyARealPort() throws {
        #expect(try #require(WebhookURL("https://example.com:8443/a")).port == "8443")
        #expect(try #require(WebhookURL("https://user:pw@example.com/a")).port == nil)
        #expect(try #require(WebhookURL("https://[2001:db8::1]/a")).port == nil)
        #expect(try #require(WebhookURL("https://[2001:db8::1]:80/a")).port == "80")
        #expect(try #require(WebhookURL("https://example.com:/a")).port == nil)
    }

    @Test func addsOrRemovesThePort() throws {
        #expect(try #require(WebhookURL("https://example.com/a?b")).addingDefaultPort.string == "https://example.com:443/a?b")
        #expect(try #require(WebhookURL("http://example.com/a")).addingDefaultPort.string == "http://example.com:80/a")
        #expect(try #require(WebhookURL("https://example.com:1234/a")).removingPort.string == "https://example.com/a")
        #expect(try #require(WebhookURL("https://[::1]:1234/a")).removingPort.string == "https://[::1]/a")
    }

    @Test(arguments: ["", "example.com/a", "://example.com", "https://", "https:///path"])
    func refusesWhatIsNotAnAbsoluteURL(_ text: String) {
        #expect(WebhookURL(text) == nil)
    }

    @Test func base64BytesMatchFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            #expect(String(decoding: WebhookEncoding.base64Bytes(bytes), as: UTF8.self) == Data(bytes).base64EncodedString())
        }
    }
}
