import Foundation

/// OSS (single-tenant) mode: provider configuration read from environment variables, validated
/// with the same schemas as stored documents.
public enum EnvironmentProviderConfiguration {
    /// Environment variable → document field, per provider. `*_FROM_NUMBER` may list several, comma-separated.
    static let variables: [ProviderName: [(variable: String, field: String)]] = [
        .twilio: [
            ("TWILIO_ACCOUNT_SID", "account_sid"), ("TWILIO_AUTH_TOKEN", "auth_token"),
            ("TWILIO_FROM_NUMBER", "from_numbers"), ("TWILIO_API_KEY_SID", "api_key_sid"),
            ("TWILIO_API_KEY_SECRET", "api_key_secret"), ("TWILIO_TWIML_APP_SID", "twiml_app_sid"),
        ],
        .telnyx: [
            ("TELNYX_API_KEY", "api_key"), ("TELNYX_CONNECTION_ID", "connection_id"),
            ("TELNYX_PHONE_NUMBER", "from_numbers"), ("TELNYX_PUBLIC_KEY", "public_key"),
            ("TELNYX_CREDENTIAL_CONNECTION_ID", "credential_connection_id"),
        ],
        .vonage: [
            ("VONAGE_API_KEY", "api_key"), ("VONAGE_API_SECRET", "api_secret"),
            ("VONAGE_APPLICATION_ID", "application_id"), ("VONAGE_PRIVATE_KEY", "private_key"),
            ("VONAGE_SIGNATURE_SECRET", "signature_secret"), ("VONAGE_FROM_NUMBER", "from_numbers"),
        ],
        .plivo: [
            ("PLIVO_AUTH_ID", "auth_id"), ("PLIVO_AUTH_TOKEN", "auth_token"), ("PLIVO_FROM_NUMBER", "from_numbers"),
        ],
    ]

    /// Every variable name this mode reads, for documentation and the README.
    public static var variableNames: [String] {
        ["TELEPHONY_PROVIDER"] + ProviderName.allCases.flatMap { variables[$0, default: []].map(\.variable) }
    }

    /// The providers configured in `environment` (a provider counts once any of its variables is
    /// set, and must then be complete and valid), plus `TELEPHONY_PROVIDER`.
    /// Throws one error listing every problem, each field named by its variable.
    public static func load(from environment: [String: String]) throws(ConfigurationValidationError)
        -> OrganizationTelephonyConfiguration
    {
        var configuration = OrganizationTelephonyConfiguration()
        var problems: [FieldError] = []
        for provider in ProviderName.allCases {
            let mapping = variables[provider, default: []]
            let present = mapping.filter { !(environment[$0.variable] ?? "").isEmpty }
            guard !present.isEmpty else { continue }
            var document: [String: JSONValue] = [:]
            for (variable, field) in present {
                let value = environment[variable] ?? ""
                if field == "from_numbers" {
                    document[field] = .array(value.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
                } else {
                    // PEM keys are commonly passed with literal "\n" in one-line environments.
                    document[field] = .string(field == "private_key" ? value.replacingOccurrences(of: "\\n", with: "\n") : value)
                }
            }
            do {
                let valid = try ConfigurationSchema.forKey(provider.configurationKey).validate(document)
                configuration.providers[provider] = ProviderCredentials(current: valid)
            } catch {
                let byField = Dictionary(mapping.map { ($0.field, $0.variable) }, uniquingKeysWith: { first, _ in first })
                problems += error.errors.map { problem in
                    let base = String(problem.field.prefix { $0 != "[" })
                    return FieldError(field: byField[base] ?? problem.field, problem: problem.problem)
                }
            }
        }
        if let raw = environment["TELEPHONY_PROVIDER"], !raw.isEmpty {
            if let provider = ProviderName(rawValue: raw.lowercased()) {
                if configuration.providers[provider] == nil && problems.isEmpty {
                    problems.append(
                        FieldError(field: "TELEPHONY_PROVIDER", problem: "names \(provider.rawValue), whose variables are not set"))
                }
                configuration.defaultProvider = provider
            } else {
                problems.append(FieldError(field: "TELEPHONY_PROVIDER", problem: "must be one of twilio, telnyx, vonage, plivo"))
            }
        }
        guard problems.isEmpty else { throw ConfigurationValidationError(errors: problems) }
        return configuration
    }
}
