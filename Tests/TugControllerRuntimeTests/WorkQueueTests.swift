import Foundation
import Testing
@testable import TugControllerRuntime

/// The rules of client-go's work queue (`queue.go`, `delaying_queue.go`, `default_rate_limiters.go`).
@Suite struct WorkQueueTests {
    @Test func aKeyAddedTwiceIsQueuedOnce() async {
        let queue = WorkQueue<String>(name: "t")
        queue.add("a")
        queue.add("a")
        queue.add("b")
        #expect(queue.count == 2)
        #expect(await queue.get() == "a")
        #expect(await queue.get() == "b")
    }

    @Test func aKeyBeingProcessedIsNotHandedOutAgainUntilDone() async {
        let queue = WorkQueue<String>(name: "t")
        queue.add("a")
        let first = await queue.get()
        #expect(first == "a")
        queue.add("a")  // changed while a worker has it
        #expect(queue.count == 0)
        queue.add("b")
        #expect(await queue.get() == "b")
        queue.done("a")  // now it is queued again, once
        #expect(queue.count == 1)
        #expect(await queue.get() == "a")
    }

    @Test func aWaitingWorkerGetsTheNextKey() async {
        let queue = WorkQueue<Int>(name: "t")
        async let got = queue.get()
        queue.add(7)
        #expect(await got == 7)
    }

    @Test func shutDownReleasesWaitersAndStopsAdds() async {
        let queue = WorkQueue<Int>(name: "t")
        async let got = queue.get()
        queue.shutDown()
        #expect(await got == nil)
        queue.add(1)
        #expect(await queue.get() == nil)
    }

    @Test func cancellingAWaitingGetReturnsNil() async {
        let queue = WorkQueue<Int>(name: "t")
        let task = Task { await queue.get() }
        task.cancel()
        #expect(await task.value == nil)
        queue.add(3)
        #expect(queue.count == 1)
    }

    @Test func addAfterDeliversWhenTimeComes() async throws {
        let time = ManualTime()
        let queue = WorkQueue<String>(name: "t", time: time)
        let timers = Task { await queue.runTimers() }
        defer { timers.cancel() }
        queue.addAfter("late", .seconds(10))
        queue.addAfter("soon", .seconds(1))
        queue.addAfter("soon", .seconds(5))  // keeps the earlier time
        try await waitFor { time.sleeperCount > 0 }
        time.advance(by: .seconds(1))
        #expect(await queue.get() == "soon")
        #expect(queue.count == 0)
        try await waitFor { time.sleeperCount > 0 }
        time.advance(by: .seconds(9))
        #expect(await queue.get() == "late")
        #expect(queue.count == 0)
    }

    @Test func rateLimitedRetriesBackOffExponentiallyUntilForgotten() {
        var limiter = RateLimiter<String>(baseDelay: .milliseconds(5), maxDelay: .seconds(1000), ratePerSecond: 10, burst: 100)
        let now = Date()
        #expect(limiter.when("a", now: now) == .milliseconds(5))
        #expect(limiter.when("a", now: now) == .milliseconds(10))
        #expect(limiter.when("a", now: now) == .milliseconds(20))
        #expect(limiter.numRequeues("a") == 3)
        #expect(limiter.when("b", now: now) == .milliseconds(5))
        limiter.forget("a")
        #expect(limiter.when("a", now: now) == .milliseconds(5))
        for _ in 0..<60 { _ = limiter.when("c", now: now) }
        #expect(limiter.when("c", now: now) == .seconds(1000))
    }

    @Test func theTokenBucketLimitsAStormOfFailures() {
        var limiter = RateLimiter<Int>(baseDelay: .milliseconds(5), maxDelay: .seconds(1000), ratePerSecond: 10, burst: 100)
        let now = Date()
        for key in 0..<100 { #expect(limiter.when(key, now: now) == .milliseconds(5)) }
        // The 101st distinct key in the same instant waits for a token: 1/10 s.
        #expect(limiter.when(100, now: now) == .milliseconds(100))
        #expect(limiter.when(101, now: now.addingTimeInterval(10)) == .milliseconds(5))
    }

    @Test func manualTimeWakesSleepersOnlyWhenDue() async throws {
        let time = ManualTime()
        let slept = Task { try await time.sleep(for: .seconds(2)) }
        try await waitFor { time.sleeperCount == 1 }
        time.advance(by: .seconds(1))
        #expect(time.sleeperCount == 1)
        time.advance(by: .seconds(1))
        try await slept.value
        #expect(time.sleeperCount == 0)
    }
}

/// Polls a condition with a deadline (for state another task reaches).
func waitFor(_ condition: @Sendable () -> Bool, timeout: Duration = .seconds(5)) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now > deadline { throw WaitTimeout() }
        try await Task.sleep(for: .milliseconds(2))
    }
}

struct WaitTimeout: Error {}
