import Synchronization
import Testing
@testable import TugClient

@Suite struct InFlightLimitTests {
    final class Gauge: Sendable {
        private let state = Mutex((now: 0, peak: 0, done: 0))
        func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
        func leave() { state.withLock { $0.now -= 1; $0.done += 1 } }
        var peak: Int { state.withLock { $0.peak } }
        var done: Int { state.withLock { $0.done } }
    }

    @Test func neverRunsMoreThanTheLimitAndRunsEveryone() async throws {
        let limit = InFlightLimit(3)
        let gauge = Gauge()
        try await withThrowingDiscardingTaskGroup { group in
            for _ in 0..<200 {
                group.addTask {
                    try await limit.run {
                        gauge.enter()
                        await Task.yield()
                        gauge.leave()
                    }
                }
            }
        }
        #expect(gauge.peak <= 3)
        #expect(gauge.done == 200)
    }

    @Test func aCancelledWaiterLeavesWithoutTakingASlot() async throws {
        let limit = InFlightLimit(1)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await limit.run {
                enter.yield()
                for await _ in release { break }
            }
        }
        for await _ in entered { break }
        // The one slot is taken: this caller waits, and its cancellation must end the wait.
        let waiter = Task { try await limit.run { "ran" } }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        releaser.yield()
        try await holder.value
        // The slot is free again for the next caller.
        #expect(try await limit.run { 42 } == 42)
    }
}
