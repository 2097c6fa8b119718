import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Persistence
import PostgresNIO
import TestSupport

@testable import App

/// A clock the test moves.
final class TestClock: Sendable {
    private let offset = NIOLockedValueBox<TimeInterval>(0)
    let start = Date()

    var now: Date { start.addingTimeInterval(offset.withLockedValue { $0 }) }
    func advance(_ seconds: TimeInterval) { offset.withLockedValue { $0 += seconds } }
    var closure: @Sendable () -> Date { { [self] in now } }
}

extension AppHarness {
    /// An app instance on this harness's database and master keys, with its own clock.
    func instance(
        postgres: PostgresClient? = nil, configuration: AppConfiguration = AppConfiguration(), clock: TestClock
    ) throws -> Application<RouterResponder<AppRequestContext>> {
        let dependencies = try AppDependencies.forTesting(
            postgres: postgres ?? self.postgres, configuration: configuration, keyring: keyring, now: clock.closure)
        var quiet = Logger(label: "app")
        quiet.logLevel = .critical
        return Application(router: buildRouter(dependencies), logger: quiet)
    }

    /// Runs `body` with a seeded harness and a router client of an instance whose clock the test moves.
    static func runConsole(
        configuration: AppConfiguration = AppConfiguration(), clock: TestClock = TestClock(),
        _ body: @Sendable (AppHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestDatabase.withMigratedDatabase { postgres, _ in
            let harness = try await make(postgres: postgres, configuration: configuration)
            try await harness.instance(configuration: configuration, clock: clock).test(.router) { client in
                try await body(harness, client)
            }
        }
    }
}
