import Foundation
import Synchronization
import Testing

@testable import App

/// Deadlines that answer on time even when the work ignores cancellation, and the database gate.
/// (Bounds are loose: the suite runs in parallel with everything else on two cores.)
@Suite struct DeadlineTests {
    /// Work that keeps going for `duration` whatever happens (as a query on a dropped connection did).
    /// It waits off the cooperative pool: a loop around a cancelled `Task.sleep` would spin and
    /// starve the other tests' timers on a two-core machine.
    static func stubborn(_ duration: Duration) async -> Int {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { continuation.resume() }
        }
        return 1
    }

    @Test func answersAtTheDeadlineEvenWhenTheWorkIgnoresCancellation() async throws {
        let start = ContinuousClock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(100)) { await Self.stubborn(.seconds(40)) }
        }
        // Far under the work's 40 s, with room for a loaded two-core run of the whole suite.
        #expect(ContinuousClock.now - start < .seconds(20), "the caller waited for the work")
    }

    @Test func returnsTheResultAndErrorsOfWorkThatEndsInTime() async throws {
        #expect(try await withDeadline(.seconds(5)) { 42 } == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) {
            try await withDeadline(.seconds(5)) { () async throws -> Int in throw Failure() }
        }
    }

    @Test func cancellingTheCallerEndsTheWait() async throws {
        let waiting = Task {
            try await withDeadline(.seconds(30)) { await Self.stubborn(.seconds(8)) }
        }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        let start = ContinuousClock.now
        await #expect(throws: CancellationError.self) { try await waiting.value }
        // Far under the work's 40 s, with room for a loaded two-core run of the whole suite.
        #expect(ContinuousClock.now - start < .seconds(20), "the caller waited for the work")
    }

    @Test func theDatabaseGateShortensTheDeadlineAfterATimeoutWithTheServerUnreachableUntilASuccess() async throws {
        let gate = DatabaseAvailability(
            deadline: .milliseconds(200), probeDeadline: .milliseconds(30), reachability: .init { false })
        #expect(try await gate.bounded { 1 } == 1)
        #expect(gate.currentLimit == .milliseconds(200))
        await #expect(throws: DatabaseAvailabilityError.unavailable) { try await gate.bounded { await Self.stubborn(.seconds(8)) } }
        #expect(gate.isUnavailable)
        #expect(gate.currentLimit == .milliseconds(30))
        await #expect(throws: DatabaseAvailabilityError.unavailable) { try await gate.bounded { await Self.stubborn(.seconds(8)) } }
        #expect(gate.currentLimit == .milliseconds(30))
        #expect(try await gate.bounded { 2 } == 2)
        #expect(!gate.isUnavailable)
        #expect(gate.currentLimit == .milliseconds(200))
    }

    @Test func aTimeoutWithTheServerReachableIsBusyForThatStepOnly() async throws {
        final class Count: Sendable {
            let value = Mutex(0)
        }
        let probes = Count()
        let gate = DatabaseAvailability(
            deadline: .milliseconds(100), probeDeadline: .milliseconds(30),
            reachability: .init {
                probes.value.withLock { $0 += 1 }
                return true
            })
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    await #expect(throws: DatabaseAvailabilityError.busy) {
                        try await gate.bounded { await Self.stubborn(.seconds(8)) }
                    }
                }
            }
        }
        #expect(!gate.isUnavailable)
        #expect(gate.currentLimit == .milliseconds(100))
        #expect(probes.value.withLock { $0 } <= 2, "steps timing out together share one connectivity check")
        #expect(try await gate.bounded { 3 } == 3)
    }

    @Test func aStatementErrorIsRethrownAndChangesNothing() async throws {
        let gate = DatabaseAvailability(deadline: .seconds(5), reachability: .init { false })
        struct StatementFailed: Error {}
        await #expect(throws: StatementFailed.self) { try await gate.bounded { () async throws -> Int in throw StatementFailed() } }
        #expect(!gate.isUnavailable)
    }
}
