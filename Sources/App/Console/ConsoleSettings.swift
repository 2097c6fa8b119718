import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// How the console's cookies and headers are shaped, from the public URL and the SDK URLs.
struct ConsoleSettings: Sendable {
    /// True when the public URL is https: cookies are `Secure` and `__Host-` prefixed.
    let secure: Bool
    /// The public URL, for links handed out of band (invitations).
    let publicURL: String
    /// The `Content-Security-Policy` of every console response.
    let contentSecurityPolicy: String

    init(publicURL: String, twilioSDKURL: String? = nil, telnyxSDKURL: String? = nil) {
        self.publicURL = publicURL
        secure = publicURL.lowercased().hasPrefix("https://")
        var scripts = ["'self'"]
        var connect = ["'self'"]
        var media = ["'self'"]
        if let origin = twilioSDKURL.flatMap(Self.origin) {
            scripts.append(origin)
            // The Twilio Voice SDK's event gateway and signalling, and its in-page audio.
            connect += ["https://eventgw.twilio.com", "wss://voice-js.roaming.twilio.com"]
            media.append("mediastream:")
        }
        if let origin = telnyxSDKURL.flatMap(Self.origin) {
            scripts.append(origin)
            connect.append("wss://rtc.telnyx.com")
        }
        contentSecurityPolicy = [
            "default-src 'self'", "script-src \(Self.unique(scripts).joined(separator: " "))",
            "connect-src \(Self.unique(connect).joined(separator: " "))", "media-src \(Self.unique(media).joined(separator: " "))",
            "style-src 'self'", "img-src 'self' data:", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
            "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    /// `scheme://host[:port]` of an http(s) URL.
    static func origin(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else { return nil }
        return "\(scheme)://\(host.lowercased())" + (components.port.map { ":\($0)" } ?? "")
    }

    /// Percent-encodes a query parameter's value.
    static func escapeQuery(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    var sessionCookieName: String { secure ? "__Host-switchboard_session" : "switchboard_session" }
    /// The signed-out forms' CSRF token (double-submit: cookie and hidden field must match).
    var formCookieName: String { secure ? "__Host-switchboard_form" : "switchboard_form" }

    func sessionCookie(_ value: String) -> Cookie {
        Cookie(
            name: sessionCookieName, value: value, maxAge: Int(UserSessionStore.absoluteTimeout), path: "/", secure: secure,
            httpOnly: true, sameSite: .lax)
    }

    func expiredSessionCookie() -> Cookie {
        Cookie(name: sessionCookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func formCookie(_ value: String) -> Cookie {
        Cookie(name: formCookieName, value: value, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Headers on every console response, pages, redirects and errors alike.
    func applySecurityHeaders(to headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "same-origin"
        headers[.xFrameOptions] = "DENY"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
}
