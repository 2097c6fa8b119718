/// An organization's `CALL_POLICY`, read from a validated document; absent fields are nil and the
/// caller applies the defaults (prefixes of the organization's own numbers, 60 a minute, 20 at once).
public struct CallPolicyDocument: Sendable, Equatable {
    /// Destinations must start with one of these (`+1`, `+4420`, …); nil: the default.
    public var allowedDestinationPrefixes: [String]?
    /// Calls the organization may start in any 60 seconds; nil: the default.
    public var maxCallsPerMinute: Int?
    /// Calls of the organization not yet ended; nil: the default.
    public var maxConcurrentCalls: Int?

    /// Validates `document` against the `CALL_POLICY` schema and reads it.
    public init(document: [String: JSONValue]) throws(ConfigurationValidationError) {
        let values = try ConfigurationSchema.forKey(.callPolicy).validate(document)
        allowedDestinationPrefixes = values["allowed_destination_prefixes"]?.arrayValue?.compactMap(\.stringValue)
        maxCallsPerMinute = values["max_calls_per_minute"]?.doubleValue.map { Int($0) }
        maxConcurrentCalls = values["max_concurrent_calls"]?.doubleValue.map { Int($0) }
    }

    /// A policy with these values.
    public init(allowedDestinationPrefixes: [String]? = nil, maxCallsPerMinute: Int? = nil, maxConcurrentCalls: Int? = nil) {
        self.allowedDestinationPrefixes = allowedDestinationPrefixes
        self.maxCallsPerMinute = maxCallsPerMinute
        self.maxConcurrentCalls = maxConcurrentCalls
    }
}
