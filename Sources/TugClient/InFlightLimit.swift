import Synchronization

/// At most `limit` requests of one client at a time; the others wait their turn in order. A client without a
/// connection pool to bound it (the in-process transport) would otherwise let a controller's burst of thousands of
/// creates run all at once, ahead of everything else the server has to do for the pods it already created.
final class InFlightLimit: Sendable {
    struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var head = 0
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    init(_ limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Runs `body` once a slot is free. A task cancelled while it waits throws CancellationError without running it.
    func run<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id = state.withLock { s -> UInt64? in
            if s.available > 0 {
                s.available -= 1
                return nil
            }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { s -> Bool in
                    if Task.isCancelled { return true }
                    s.waiters.append((id, continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.waiters[s.head...].firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard s.head < s.waiters.count else {
                s.available += 1
                return nil
            }
            let waiter = s.waiters[s.head].continuation
            s.head += 1
            // Drop what was served once it is half the array, so it does not grow without bound.
            if s.head > 64, s.head * 2 > s.waiters.count {
                s.waiters.removeFirst(s.head)
                s.head = 0
            }
            return waiter
        }
        // Resumed outside the lock: the waiter's task may run at once.
        next?.resume()
    }
}
