import Foundation
import Logging
import Persistence
import Providers

/// Applies an organization's `CALL_POLICY` to a call about to be placed (initiate-call and
/// cold-call initiate): the destination must start with an allowed prefix (403
/// `destination_not_allowed`), and the rates it returns are enforced by `CallStore.begin` with the
/// call's insert (429 `rate_limited`), so they hold across instances.
struct CallPolicyGate: Sendable {
    let configurations: ConfigurationStore

    static let defaultCallsPerMinute = 60
    static let defaultConcurrentCalls = 20

    /// The limits for a call to `destination`, or 403 when the policy does not allow it.
    /// `ownNumbers` (the provider's configured caller ids) give the default prefixes: their countries.
    func limits(organizationID: UUID, destination: String, ownNumbers: [String], logger: Logger) async throws -> CallLimits {
        let policy = try await policy(organizationID: organizationID, logger: logger)
        let prefixes = policy.allowedDestinationPrefixes ?? CountryCallingCode.prefixes(of: ownNumbers)
        guard prefixes.contains(where: { destination.hasPrefix($0) }) else {
            let source = policy.allowedDestinationPrefixes == nil
                ? "by default, the countries of the organization's own numbers" : "the organization's CALL_POLICY"
            throw APIError(
                status: .forbidden, code: "destination_not_allowed",
                message: "calls may go only to numbers starting with \(prefixes.joined(separator: ", ")) (\(source)); an admin can change allowed_destination_prefixes in CALL_POLICY")
        }
        return CallLimits(
            perMinute: policy.maxCallsPerMinute ?? Self.defaultCallsPerMinute,
            concurrent: policy.maxConcurrentCalls ?? Self.defaultConcurrentCalls)
    }

    /// The stored policy (it holds no secret, so its public document is the whole document), or the defaults.
    func policy(organizationID: UUID, logger: Logger) async throws -> CallPolicyDocument {
        guard
            let stored = try await configurations.get(
                organizationID: organizationID, key: ConfigurationKey.callPolicy.rawValue, logger: logger)
        else { return CallPolicyDocument() }
        let document = try JSONCoding.decoder.decode(JSONValue.self, from: Data(stored.publicDocument.utf8))
        return try CallPolicyDocument(document: document.objectValue ?? [:])
    }
}

/// ITU-T E.164 country calling codes, as far as telling a number's country prefix needs them:
/// codes are prefix-free; 1 (North American plan) and 7 are one digit, the two-digit ones are listed,
/// every other code has three digits.
enum CountryCallingCode {
    static let twoDigitCodes: Set<String> = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
        "86", "90", "91", "92", "93", "94", "95", "98",
    ]

    /// The `+`-prefixed calling code of an E.164 number (`+14155550100` → `+1`); nil for anything else.
    static func prefix(of number: String) -> String? {
        guard number.hasPrefix("+") else { return nil }
        let digits = number.dropFirst()
        guard let first = digits.first, first != "0", digits.count >= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        if first == "1" || first == "7" { return "+" + String(first) }
        let two = String(digits.prefix(2))
        return "+" + (twoDigitCodes.contains(two) ? two : String(digits.prefix(3)))
    }

    /// The distinct calling codes of `numbers`, in order of first appearance.
    static func prefixes(of numbers: [String]) -> [String] {
        var seen: Set<String> = []
        return numbers.compactMap(prefix(of:)).filter { seen.insert($0).inserted }
    }
}
