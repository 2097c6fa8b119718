import Foundation
import PostgresNIO

/// Parses a `postgres://user:password@host:port/database` URL into a client configuration.
public enum DatabaseURL {
    /// A malformed database URL; the message never contains the password.
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The client configuration for `url`; TLS is off for loopback hosts and required elsewhere
    /// unless the URL says `sslmode=disable`.
    public static func configuration(from url: String) throws(ParseError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw ParseError(description: "database URL must look like postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ParseError(description: "database URL has no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ParseError(description: "database URL has no user")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw ParseError(description: "database URL has no database name")
        }
        let sslmode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value
        let isLoopback = host == "127.0.0.1" || host == "localhost" || host == "::1"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        case nil: tls = isLoopback ? .disable : .require(.makeClientConfiguration())
        case .some(let other):
            throw ParseError(description: "database URL sslmode '\(other)' is not one of disable, require, verify-full")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding ?? components.password,
            database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
