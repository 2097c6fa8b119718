import Foundation
import Hummingbird

/// An `application/x-www-form-urlencoded` body as name → value (the last value of a repeated name).
struct ConsoleForm: Sendable {
    /// Console forms are small; anything larger is refused.
    static let maxSize = 64 * 1024

    let values: [String: String]

    init(values: [String: String]) {
        self.values = values
    }

    init(encoded: String) {
        var values: [String: String] = [:]
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            values[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        self.values = values
    }

    subscript(_ name: String) -> String? { values[name] }

    /// The field trimmed, or "" when absent.
    func text(_ name: String) -> String {
        (values[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Reads the request's form body (already collected by the middleware for its CSRF check).
    static func read(_ request: Request) async throws -> ConsoleForm {
        var request = request
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw ConsoleError.badForm("Send the form as application/x-www-form-urlencoded.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxSize)
        } catch {
            throw ConsoleError.badForm("The form is too large.")
        }
        let form = ConsoleForm(encoded: String(buffer: buffer))
        // PostgreSQL text cannot hold NUL, and no field of the console needs it.
        guard !form.values.contains(where: { $0.key.contains("\u{0}") || $0.value.contains("\u{0}") }) else {
            throw ConsoleError.badForm("The form must not contain NUL characters.")
        }
        return form
    }
}
