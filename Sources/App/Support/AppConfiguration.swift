import Foundation
import Logging
import Persistence
import PostgresNIO
import Providers

/// Everything the server reads from the environment, read in one place.
struct AppConfiguration: Sendable {
    /// One error naming every missing or malformed variable.
    struct Invalid: Error, CustomStringConvertible {
        let problems: [String]
        var description: String {
            "invalid environment:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// What a command needs from the environment.
    struct Needs: OptionSet {
        let rawValue: Int
        static let database = Needs(rawValue: 1)
        static let masterKeys = Needs(rawValue: 2)
    }

    var host = "127.0.0.1"
    var port = 8080
    var database: PostgresClient.Configuration?
    var masterKeys: MasterKeyring?
    var migrationsDirectory = "sql"
    var logLevel: Logger.Level = .info
    var logFormat: LogFormat = .json
    /// The URL providers reach this server at; webhook signatures are checked against it.
    var publicURL = "http://127.0.0.1:8080"
    /// Where answered calls stream their media (the markup's stream URL); defaults to the public URL over ws(s).
    var mediaStreamURL: String?
    /// Provider API base URLs (real APIs unless overridden).
    var endpoints = ProviderEndpoints()
    /// Deadline of every outbound provider request.
    var providerTimeout: Duration = .seconds(10)
    /// Days stored provider webhooks are kept before the retention job deletes them.
    var webhookRetentionDays = 30
    /// Failed authentications (bad API keys, refused webhook signatures) one address may have in a
    /// minute before it is refused with 429 until the minute ends.
    var authenticationFailuresPerMinute = 120
    /// How long a resolved provider configuration is cached (the change feed invalidates sooner).
    var providerCacheTTL: Duration = ConfigurationCache.defaultTimeToLive
    /// How often the change feed checks that its LISTEN connection still hears notifications.
    var changeFeedHeartbeat: Duration = ConfigurationChangeFeed.defaultHeartbeatInterval
    /// OSS mode: providers configured through the environment.
    var environmentProviders = OrganizationTelephonyConfiguration()
    /// Which organizations may use them (`TELEPHONY_ENVIRONMENT_ORGANIZATIONS`).
    var environmentScope = EnvironmentProviderScope.none
    /// Rules for requests to tenant-given URLs (Odoo).
    var outbound = OutboundPolicy()
    /// How often each organization's Odoo is synced; nil = never (manual syncs only).
    var odooSyncInterval: Duration? = .seconds(15 * 60)
    /// Where the console loads the Twilio Voice JS SDK from (its origin joins the CSP's script-src).
    var twilioSDKURL: String?
    /// Where the console loads the Telnyx WebRTC SDK from.
    var telnyxSDKURL: String?

    enum LogFormat: String { case json, text }

    /// Reads the environment, failing with every problem at once.
    static func load(from environment: [String: String], needs: Needs) throws(Invalid) -> AppConfiguration {
        var configuration = AppConfiguration()
        var problems: [String] = []
        if let host = environment["SWITCHBOARD_HOST"], !host.isEmpty { configuration.host = host }
        if let raw = environment["SWITCHBOARD_PORT"] {
            if let port = Int(raw), (1...65535).contains(port) {
                configuration.port = port
            } else {
                problems.append("SWITCHBOARD_PORT must be a port number from 1 to 65535")
            }
        }
        if let url = environment["SWITCHBOARD_DATABASE_URL"], !url.isEmpty {
            do {
                configuration.database = try DatabaseURL.configuration(from: url)
            } catch {
                problems.append("SWITCHBOARD_DATABASE_URL: \(error.description)")
            }
        } else if needs.contains(.database) {
            problems.append("SWITCHBOARD_DATABASE_URL is not set (postgres://user:password@host:port/database)")
        }
        if let keys = environment["SWITCHBOARD_MASTER_KEYS"], !keys.isEmpty {
            do {
                configuration.masterKeys = try MasterKeyring(parsing: keys)
            } catch {
                problems.append("SWITCHBOARD_MASTER_KEYS: \(error.description)")
            }
        } else if needs.contains(.masterKeys) {
            problems.append("SWITCHBOARD_MASTER_KEYS is not set (id:base64-of-32-bytes[,id:base64…], first is active)")
        }
        if let directory = environment["SWITCHBOARD_MIGRATIONS_DIR"], !directory.isEmpty {
            configuration.migrationsDirectory = directory
        }
        if let raw = environment["LOG_LEVEL"] {
            if let level = Logger.Level(rawValue: raw.lowercased()) {
                configuration.logLevel = level
            } else {
                problems.append("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
            }
        }
        if let raw = environment["LOG_FORMAT"] {
            if let format = LogFormat(rawValue: raw.lowercased()) {
                configuration.logFormat = format
            } else {
                problems.append("LOG_FORMAT must be json or text")
            }
        }
        configuration.publicURL = "http://\(configuration.host):\(configuration.port)"
        if let url = environment["SWITCHBOARD_PUBLIC_URL"], !url.isEmpty {
            if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil,
                parsed.query == nil
            {
                configuration.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            } else {
                problems.append("SWITCHBOARD_PUBLIC_URL must be an http(s) URL without a query, e.g. https://switchboard.example.com")
            }
        }
        if let url = environment["SWITCHBOARD_MEDIA_STREAM_URL"], !url.isEmpty {
            if let parsed = URL(string: url), ["ws", "wss"].contains(parsed.scheme ?? ""), parsed.host != nil {
                configuration.mediaStreamURL = url
            } else {
                problems.append("SWITCHBOARD_MEDIA_STREAM_URL must be a ws:// or wss:// URL")
            }
        }
        for (variable, keyPath) in [
            ("SWITCHBOARD_TWILIO_SDK_URL", \AppConfiguration.twilioSDKURL),
            ("SWITCHBOARD_TELNYX_SDK_URL", \AppConfiguration.telnyxSDKURL),
        ] {
            guard let url = environment[variable], !url.isEmpty else { continue }
            if let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), parsed.host != nil,
                scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(parsed.host ?? ""))
            {
                configuration[keyPath: keyPath] = url
            } else {
                problems.append("\(variable) must be an https URL (http only for 127.0.0.1 or localhost)")
            }
        }
        let overrides: [(String, WritableKeyPath<ProviderEndpoints, String>)] = [
            ("TWILIO_API_BASE_URL", \.twilio), ("TELNYX_API_BASE_URL", \.telnyx), ("VONAGE_API_BASE_URL", \.vonage),
            ("VONAGE_REST_BASE_URL", \.vonageREST), ("PLIVO_API_BASE_URL", \.plivo),
        ]
        for (variable, keyPath) in overrides {
            guard let url = environment[variable], !url.isEmpty else { continue }
            if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil {
                configuration.endpoints[keyPath: keyPath] = url.hasSuffix("/") ? String(url.dropLast()) : url
            } else {
                problems.append("\(variable) must be an http(s) URL")
            }
        }
        if let raw = environment["SWITCHBOARD_PROVIDER_TIMEOUT_MS"] {
            if let milliseconds = Int(raw), (100...120_000).contains(milliseconds) {
                configuration.providerTimeout = .milliseconds(milliseconds)
            } else {
                problems.append("SWITCHBOARD_PROVIDER_TIMEOUT_MS must be 100 to 120000")
            }
        }
        if let raw = environment["SWITCHBOARD_WEBHOOK_RETENTION_DAYS"] {
            if let days = Int(raw), (1...3650).contains(days) {
                configuration.webhookRetentionDays = days
            } else {
                problems.append("SWITCHBOARD_WEBHOOK_RETENTION_DAYS must be a whole number of days from 1 to 3650")
            }
        }
        if let raw = environment["SWITCHBOARD_AUTH_FAILURES_PER_MINUTE"] {
            if let count = Int(raw), (1...1_000_000).contains(count) {
                configuration.authenticationFailuresPerMinute = count
            } else {
                problems.append("SWITCHBOARD_AUTH_FAILURES_PER_MINUTE must be a whole number from 1 to 1000000")
            }
        }
        if let raw = environment["SWITCHBOARD_PROVIDER_CACHE_TTL_SECONDS"] {
            if let seconds = Int(raw), (1...86_400).contains(seconds) {
                configuration.providerCacheTTL = .seconds(seconds)
            } else {
                problems.append("SWITCHBOARD_PROVIDER_CACHE_TTL_SECONDS must be 1 to 86400")
            }
        }
        do {
            configuration.environmentProviders = try EnvironmentProviderConfiguration.load(from: environment)
        } catch {
            problems += error.errors.map { "\($0.field): \($0.problem)" }
        }
        switch environment["TELEPHONY_ENVIRONMENT_ORGANIZATIONS"].map({ $0.trimmingCharacters(in: .whitespaces) }) {
        case "*":
            configuration.environmentScope = .all
        case .some(let list) where !list.isEmpty:
            let ids = list.split(separator: ",").map { UUID(uuidString: $0.trimmingCharacters(in: .whitespaces)) }
            if ids.contains(nil) {
                problems.append("TELEPHONY_ENVIRONMENT_ORGANIZATIONS must be * or comma-separated organization ids")
            } else {
                configuration.environmentScope = .organizations(Set(ids.compactMap { $0 }))
            }
        default:
            if !configuration.environmentProviders.providers.isEmpty {
                problems.append(
                    "provider credentials are set in the environment: set TELEPHONY_ENVIRONMENT_ORGANIZATIONS to * (single-tenant) or to the organization ids allowed to use them")
            }
        }
        loadOutbound(from: environment, into: &configuration, problems: &problems)
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return configuration
    }
}
