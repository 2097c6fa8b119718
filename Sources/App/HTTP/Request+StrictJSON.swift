import Foundation
import Hummingbird
import Providers

/// A JSON request body whose accepted top-level fields are known, so unknown ones are refused.
protocol StrictRequestBody: Decodable {
    static var fields: Set<String> { get }
}

extension Request {
    /// Reads the body as one JSON object: 415 when not JSON, 413 when over the limit,
    /// 400 when malformed or not an object.
    mutating func jsonObject(context: AppRequestContext) async throws -> [String: JSONValue] {
        if let contentType = headers[.contentType],
            !contentType.lowercased().hasPrefix("application/json")
        {
            throw APIError(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                message: "send the body as application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: RequestLimits.maxBodySize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge
        }
        let value: JSONValue
        do {
            value = try JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: buffer))
        } catch {
            throw APIError.badRequest("malformed_json", "the body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw APIError.badRequest("malformed_json", "the body must be a JSON object")
        }
        if let field = Self.fieldWithNUL(value, path: "") {
            throw APIError.badRequest("invalid_field", "field '\(field)' must not contain NUL characters")
        }
        return object
    }

    /// The path of the first key or string holding U+0000, which no stored text may contain.
    static func fieldWithNUL(_ value: JSONValue, path: String) -> String? {
        switch value {
        case .string(let text):
            return text.unicodeScalars.contains("\u{0}") ? (path.isEmpty ? "(body)" : path) : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = fieldWithNUL(item, path: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if key.unicodeScalars.contains("\u{0}") { return child.replacingOccurrences(of: "\u{0}", with: "\\0") }
                if let found = fieldWithNUL(member, path: child) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    /// Decodes a strict body: unknown fields and wrong types are 400s naming the field.
    mutating func decodeStrict<Body: StrictRequestBody>(_ type: Body.Type, context: AppRequestContext) async throws
        -> Body
    {
        let object = try await jsonObject(context: context)
        let unknown = Set(object.keys).subtracting(Body.fields).sorted()
        guard unknown.isEmpty else {
            throw APIError.badRequest(
                "unknown_field",
                "unknown field\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                    + "accepted: \(Body.fields.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONCoding.decoder.decode(Body.self, from: JSONCoding.encoder.encode(JSONValue.object(object)))
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid_field", Self.describe(error))
        }
    }

    /// A message naming the field and what was expected, never the submitted value.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' must be \(Self.describe(type))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))' must be \(Self.describe(type)), not null"
        case .keyNotFound(let key, let context):
            return "field '\(path(context.codingPath + [key]))' is required"
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "the body is not valid JSON" : "field '\(field)' has an invalid value"
        @unknown default:
            return "the body does not have the expected shape"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is Date.Type: "an ISO 8601 date-time"
        default: "of another type"
        }
    }
}
