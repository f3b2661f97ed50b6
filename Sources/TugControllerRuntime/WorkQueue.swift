import Foundation
import Synchronization

/// client-go's rate-limited, delaying work queue. Its guarantees, which controllers rely on:
/// - a key is queued at most once however often it is added (the `dirty` set);
/// - a key is never handed to two workers at once (the `processing` set);
/// - a key added while it is being processed is handed out again once the worker calls `done`;
/// - `addAfter` and `addRateLimited` add the key later (one timer loop, `runTimers`, delivers them);
/// - after `shutDown` `get` returns nil.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    struct Delayed {
        var due: Date
        var sequence: UInt64
        var key: Key
    }

    struct State {
        var queue: [Key] = []
        var head = 0
        var dirty: Set<Key> = []
        var processing: Set<Key> = []
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Key?, Never>)] = []
        var nextID: UInt64 = 0
        var shuttingDown = false
        var delayed = MinHeap<Delayed>(by: { ($0.due, $0.sequence) < ($1.due, $1.sequence) })
        var delayedDue: [Key: Date] = [:]
        var limiter: RateLimiter<Key>
        var timerWake: CheckedContinuation<Void, Never>?
        var adds = 0

        var count: Int { queue.count - head }

        mutating func pop() -> Key? {
            guard head < queue.count else { return nil }
            let key = queue[head]
            head += 1
            if head > 64 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return key
        }

        /// Adds `key` now; returns a waiter to hand it to, if one is waiting and the key is ready to run.
        mutating func insert(_ key: Key) -> (CheckedContinuation<Key?, Never>, Key)? {
            guard !shuttingDown, !dirty.contains(key) else { return nil }
            adds += 1
            dirty.insert(key)
            if processing.contains(key) { return nil }
            queue.append(key)
            return handOff()
        }

        mutating func handOff() -> (CheckedContinuation<Key?, Never>, Key)? {
            guard !waiters.isEmpty, let key = pop() else { return nil }
            let waiter = waiters.removeFirst()
            dirty.remove(key)
            processing.insert(key)
            return (waiter.continuation, key)
        }
    }

    public let name: String
    let time: any TimeSource
    private let state: Mutex<State>

    public init(name: String, time: any TimeSource = SystemTime(), rateLimiter: RateLimiter<Key> = RateLimiter()) {
        self.name = name
        self.time = time
        state = Mutex(State(limiter: rateLimiter))
    }

    /// Keys waiting to be handed out (not counting delayed ones or ones being processed).
    public var count: Int { state.withLock { $0.count } }

    /// Total number of adds that queued a key (for tests and metrics).
    public var addCount: Int { state.withLock { $0.adds } }

    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    public func add(_ key: Key) {
        if let (waiter, key) = state.withLock({ $0.insert(key) }) { waiter.resume(returning: key) }
    }

    /// The next key to work on, waiting for one; nil once the queue shuts down or the task is cancelled.
    public func get() async -> Key? {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
                let result = state.withLock { state -> Key?? in
                    if let key = state.pop() {
                        state.dirty.remove(key)
                        state.processing.insert(key)
                        return .some(key)
                    }
                    if state.shuttingDown || Task.isCancelled { return .some(nil) }
                    state.waiters.append((id, continuation))
                    return .none
                }
                if let result { continuation.resume(returning: result) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Key?, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Marks `key` finished; if it was added again meanwhile it goes back in the queue.
    public func done(_ key: Key) {
        let handOff = state.withLock { state -> (CheckedContinuation<Key?, Never>, Key)? in
            state.processing.remove(key)
            guard state.dirty.contains(key) else { return nil }
            state.queue.append(key)
            return state.handOff()
        }
        if let (waiter, key) = handOff { waiter.resume(returning: key) }
    }

    /// Adds `key` once `delay` has passed (at once when it is not positive). A key already waiting keeps the
    /// earlier of its two times.
    public func addAfter(_ key: Key, _ delay: Duration) {
        guard delay > .zero else { return add(key) }
        let due = time.now.addingTimeInterval(delay.seconds)
        let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.shuttingDown else { return nil }
            if let existing = state.delayedDue[key], existing <= due { return nil }
            state.delayedDue[key] = due
            state.nextID += 1
            state.delayed.push(Delayed(due: due, sequence: state.nextID, key: key))
            defer { state.timerWake = nil }
            return state.timerWake
        }
        wake?.resume()
    }

    /// Adds `key` after its rate-limited back-off (see `RateLimiter`).
    public func addRateLimited(_ key: Key) {
        let delay = state.withLock { $0.limiter.when(key, now: time.now) }
        addAfter(key, delay)
    }

    /// Clears `key`'s failure count: its next `addRateLimited` starts from the base delay.
    public func forget(_ key: Key) { state.withLock { $0.limiter.forget(key) } }

    public func numRequeues(_ key: Key) -> Int { state.withLock { $0.limiter.numRequeues(key) } }

    /// Stops the queue: waiting and future `get`s return nil; keys being processed may still call `done`.
    public func shutDown() {
        let (waiters, wake) = state.withLock { state in
            state.shuttingDown = true
            defer { state.waiters = []; state.timerWake = nil }
            return (state.waiters.map(\.continuation), state.timerWake)
        }
        waiters.forEach { $0.resume(returning: nil) }
        wake?.resume()
    }

    /// Delivers delayed keys when they are due; runs until the queue shuts down or the task is cancelled.
    public func runTimers() async {
        while !Task.isCancelled {
            let now = time.now
            let (ready, next, stop) = state.withLock { state -> ([Key], Date?, Bool) in
                var ready: [Key] = []
                while let first = state.delayed.peek, first.due <= now {
                    _ = state.delayed.pop()
                    if state.delayedDue[first.key] == first.due {
                        state.delayedDue[first.key] = nil
                        ready.append(first.key)
                    }
                }
                return (ready, state.delayed.peek?.due, state.shuttingDown)
            }
            ready.forEach(add)
            if stop { return }
            await waitForTimer(next)
        }
    }

    /// Waits until `deadline` (or forever without one), or until an earlier key is added or the queue shuts down.
    private func waitForTimer(_ deadline: Date?) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if state.shuttingDown || Task.isCancelled { return true }
                            if let earliest = state.delayed.peek?.due, deadline.map({ earliest < $0 }) ?? true { return true }
                            state.timerWake = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let wake = self.state.withLock { state in
                        defer { state.timerWake = nil }
                        return state.timerWake
                    }
                    wake?.resume()
                }
            }
            if let deadline {
                group.addTask { try? await self.time.sleep(until: deadline) }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
