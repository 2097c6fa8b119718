import Foundation
import Logging
import Persistence
import PostgresNIO

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
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return configuration
    }
}
