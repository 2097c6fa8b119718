import ArgumentParser
import Foundation
import Logging
import Persistence
import PostgresNIO

/// `switchboard users …`: the operator's way to bring the first people into the console.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage console users.", subcommands: [Invite.self, Create.self])

    /// Looks an organization up by id or slug, or fails naming it.
    static func organization(_ reference: String, client: PostgresClient, logger: Logger) async throws -> Organization {
        guard let found = try await OrganizationStore(client: client).find(reference, logger: logger) else {
            throw ValidationError("no organization '\(reference)'")
        }
        return found
    }

    static func parse(email: String, role: String) throws -> (String, UserRole) {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard ConsoleFormat.isPlausibleEmail(email) else { throw ValidationError("--email must be an email address") }
        guard let role = UserRole(rawValue: role) else { throw ValidationError("--role must be admin or agent") }
        return (email, role)
    }

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite someone: prints a one-time link (valid 24 hours) where they set their password.")
        @Option(help: "Organization id or slug.") var organization: String
        @Option(help: "Their email address.") var email: String
        @Option(help: "admin or agent.") var role: String
        @Option(help: "Their name.") var name = ""

        func run() async throws {
            let (configuration, logger) = try CommandEnvironment.load(needs: [.database])
            let (email, role) = try UsersCommand.parse(email: email, role: role)
            let (reference, name) = (organization, name)
            let token = try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
                let organization = try await UsersCommand.organization(reference, client: client, logger: logger)
                return try await UserStore(client: client).invite(
                    organizationID: organization.id, email: email, name: name, role: role, actor: .commandLine, logger: logger
                ).token
            }
            print(ConsoleUsersController.invitationLink(publicURL: configuration.publicURL, token: token))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user with a password read from standard input (or reset an existing one's).",
            discussion: "The password comes on standard input so it never shows in the process list: printf '%s' \"$pw\" | switchboard users create …")
        @Option(help: "Organization id or slug.") var organization: String
        @Option(help: "Their email address.") var email: String
        @Option(help: "admin or agent.") var role: String
        @Option(help: "Their name.") var name = ""

        func run() async throws {
            let (configuration, logger) = try CommandEnvironment.load(needs: [.database])
            let (email, role) = try UsersCommand.parse(email: email, role: role)
            var password = ""
            while let line = readLine(strippingNewline: true) { password += password.isEmpty ? line : "\n" + line }
            if let problem = PasswordHasher.problem(with: password, confirmation: password) {
                throw ValidationError("the password on standard input is not acceptable: \(problem)")
            }
            let hash = try await PasswordHasher().hash(password)
            let (reference, name) = (organization, name)
            let user = try await CommandEnvironment.withPostgres(configuration, logger: logger) { client in
                let organization = try await UsersCommand.organization(reference, client: client, logger: logger)
                return try await UserStore(client: client).upsertWithPassword(
                    organizationID: organization.id, email: email, name: name, role: role, passwordHash: hash,
                    actor: .commandLine, logger: logger)
            }
            print("user \(user.email) (\(user.role.rawValue)) of organization \(reference) can sign in")
        }
    }
}
