import Synchronization

/// The deadline passed before the operation finished.
struct DeadlineExceeded: Error {}

/// Runs `operation`, throwing `DeadlineExceeded` once `timeout` has passed.
///
/// The caller gets its answer at the deadline even when the operation ignores cancellation: a
/// task group would wait for its child, and a query on a connection PostgreSQL dropped while
/// shutting down was seen to wait for minutes (`scripts/faults`). The operation is cancelled and
/// left to finish on its own; its late result is dropped (a webhook stored after its 503 is a
/// duplicate for the provider's retry, never a lost acknowledgement).
func withDeadline<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation, timeout: timeout, operation: operation)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// One operation racing its deadline: whichever ends first resumes the caller, once, and
/// cancels the other.
final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var tasks: [Task<Void, Never>] = []
        var finished = false
    }

    private let state = Mutex(State())

    func start(
        _ continuation: CheckedContinuation<T, any Error>, timeout: Duration,
        operation: @escaping @Sendable () async throws -> T
    ) {
        let cancelledBeforeStart = state.withLock { state in
            state.continuation = continuation
            return state.finished
        }
        if cancelledBeforeStart {
            continuation.resume(throwing: CancellationError())
            return
        }
        let work = Task {
            do {
                self.finish(.success(try await operation()))
            } catch {
                self.finish(.failure(error))
            }
        }
        let timer = Task {
            do {
                try await Task.sleep(for: timeout)
            } catch {
                return  // the operation ended first
            }
            self.finish(.failure(DeadlineExceeded()))
        }
        let alreadyFinished = state.withLock { state in
            state.tasks = [work, timer]
            return state.finished
        }
        if alreadyFinished {
            work.cancel()
            timer.cancel()
        }
    }

    /// Resumes the caller with `result` unless something already did, and cancels what still runs.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard !state.finished else { return (nil, []) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.tasks)
        }
        continuation?.resume(with: result)
        for task in tasks { task.cancel() }
    }
}
