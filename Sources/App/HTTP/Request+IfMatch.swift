import Foundation
import Hummingbird

extension Request {
    /// The version named by `If-Match` (`"3"`, `W/"3"` or `3`); 400 when unreadable.
    func ifMatchVersion() throws -> Int64? {
        guard let value = headers[.ifMatch]?.trimmingCharacters(in: .whitespaces) else { return nil }
        var tag = Substring(value)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        if tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 { tag = tag.dropFirst().dropLast() }
        guard let version = Int64(tag), version > 0 else {
            throw APIError.badRequest(
                "invalid_if_match", "If-Match must be a version ETag from a previous response, e.g. \"3\"")
        }
        return version
    }
}
