import Foundation
import Synchronization
import TugControllerRuntime

/// The pods waiting for a node (kube-scheduler's scheduling queue): an active heap (higher priority first, then
/// older), a back-off for pods that just failed (1 s doubling to 10 s), and the unschedulable pods that wait for the
/// cluster to change (`moveAllToActive`, called on node and pod events, and every 30 s regardless).
final class SchedulingQueue: Sendable {
    enum Place { case active, backoff, unschedulable, inFlight }

    struct Entry {
        var pod: PodInfo
        var attempts = 0
        var place: Place
        var readyAt: Date = .distantPast
        var sequence: UInt64
    }

    struct Ordered {
        var priority: Int64
        var created: String
        var sequence: UInt64
        var uid: String
    }

    struct State {
        var entries: [String: Entry] = [:]
        var active = MinHeap<Ordered>(by: { a, b in
            (a.priority != b.priority) ? a.priority > b.priority : (a.created, a.sequence) < (b.created, b.sequence)
        })
        var backoff = MinHeap<(Date, UInt64, String)>(by: { ($0.0, $0.1) < ($1.0, $1.1) })
        var sequence: UInt64 = 0
        var waiter: CheckedContinuation<PodInfo?, Never>?
        var timerWake: CheckedContinuation<Void, Never>?
        var closed = false

        mutating func activate(_ uid: String) -> (CheckedContinuation<PodInfo?, Never>, PodInfo)? {
            guard var entry = entries[uid] else { return nil }
            sequence += 1
            entry.place = .active
            entry.sequence = sequence
            entries[uid] = entry
            active.push(Ordered(priority: entry.pod.priority, created: entry.pod.created, sequence: sequence, uid: uid))
            return handOff()
        }

        /// The next active pod (skipping heap entries made stale by later moves).
        mutating func popActive() -> PodInfo? {
            while let top = active.pop() {
                guard var entry = entries[top.uid], entry.place == .active, entry.sequence == top.sequence else { continue }
                entry.place = .inFlight
                entries[top.uid] = entry
                return entry.pod
            }
            return nil
        }

        mutating func handOff() -> (CheckedContinuation<PodInfo?, Never>, PodInfo)? {
            guard let waiter, let pod = popActive() else { return nil }
            self.waiter = nil
            return (waiter, pod)
        }
    }

    private let state = Mutex(State())
    let time: any TimeSource

    init(time: any TimeSource = SystemTime()) { self.time = time }

    var count: Int { state.withLock { $0.entries.count } }

    /// A pending pod appeared or changed: a new one goes straight to active; a waiting one is updated, and goes
    /// back to active when it was unschedulable and its spec or labels changed (a status write, such as the
    /// scheduler's own condition, is no reason to try again).
    func add(_ pod: PodInfo) {
        let handOff = state.withLock { state -> (CheckedContinuation<PodInfo?, Never>, PodInfo)? in
            guard !state.closed else { return nil }
            if var entry = state.entries[pod.uid] {
                let changed = entry.pod.object["spec"] != pod.object["spec"] || entry.pod.labels != pod.labels
                entry.pod = pod
                state.entries[pod.uid] = entry
                return entry.place == .unschedulable && changed ? state.activate(pod.uid) : nil
            }
            state.sequence += 1
            state.entries[pod.uid] = Entry(pod: pod, place: .active, sequence: state.sequence)
            return state.activate(pod.uid)
        }
        if let (waiter, pod) = handOff { waiter.resume(returning: pod) }
    }

    func remove(_ uid: String) {
        _ = state.withLock { $0.entries.removeValue(forKey: uid) }
    }

    /// The scheduler is done with `pod` (bound): it leaves the queue.
    func done(_ uid: String) { remove(uid) }

    /// `pod` did not fit: it waits for a cluster change, after a back-off of 1 s doubling to 10 s.
    func unschedulable(_ pod: PodInfo) {
        let now = time.now
        state.withLock { state in
            guard var entry = state.entries[pod.uid] else { return }
            entry.attempts += 1
            entry.place = .unschedulable
            entry.readyAt = now.addingTimeInterval(min(10, pow(2, Double(entry.attempts - 1))))
            state.entries[pod.uid] = entry
        }
    }

    /// Something changed that may let unschedulable pods fit: they go back, to active or (still backing off) to the
    /// back-off heap.
    func moveAllToActive() {
        let now = time.now
        let (handOffs, wake) = state.withLock { state -> ([(CheckedContinuation<PodInfo?, Never>, PodInfo)], CheckedContinuation<Void, Never>?) in
            var handOffs: [(CheckedContinuation<PodInfo?, Never>, PodInfo)] = []
            var delayed = false
            for (uid, entry) in state.entries where entry.place == .unschedulable {
                if entry.readyAt <= now {
                    if let h = state.activate(uid) { handOffs.append(h) }
                } else {
                    var moved = entry
                    moved.place = .backoff
                    state.entries[uid] = moved
                    state.sequence += 1
                    state.backoff.push((entry.readyAt, state.sequence, uid))
                    delayed = true
                }
            }
            let wake = delayed ? state.timerWake : nil
            if delayed { state.timerWake = nil }
            return (handOffs, wake)
        }
        for (waiter, pod) in handOffs { waiter.resume(returning: pod) }
        wake?.resume()
    }

    /// The next pod to schedule; nil once the queue is closed or the task is cancelled. One caller at a time.
    func pop() async -> PodInfo? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PodInfo?, Never>) in
                let ready = state.withLock { state -> PodInfo?? in
                    if let pod = state.popActive() { return .some(pod) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            close()
        }
    }

    func close() {
        let (waiter, wake) = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil; state.timerWake = nil }
            return (state.waiter, state.timerWake)
        }
        waiter?.resume(returning: nil)
        wake?.resume()
    }

    /// Moves backed-off pods to active when their time comes; runs until the queue closes.
    func runTimers() async {
        while true {
            let now = time.now
            let (handOffs, next, closed) = state.withLock { state -> ([(CheckedContinuation<PodInfo?, Never>, PodInfo)], Date?, Bool) in
                var handOffs: [(CheckedContinuation<PodInfo?, Never>, PodInfo)] = []
                while let top = state.backoff.peek, top.0 <= now {
                    _ = state.backoff.pop()
                    if state.entries[top.2]?.place == .backoff, let h = state.activate(top.2) { handOffs.append(h) }
                }
                return (handOffs, state.backoff.peek?.0, state.closed)
            }
            for (waiter, pod) in handOffs { waiter.resume(returning: pod) }
            if closed || Task.isCancelled { return }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitForWake(next) }
                if let next { group.addTask { try? await self.time.sleep(until: next) } }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Returns when an earlier back-off is added, the queue closes, or the task is cancelled.
    private func waitForWake(_ deadline: Date?) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.closed || Task.isCancelled { return true }
                    if let earliest = state.backoff.peek?.0, deadline.map({ earliest < $0 }) ?? true { return true }
                    state.timerWake = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let wake = state.withLock { state in
                defer { state.timerWake = nil }
                return state.timerWake
            }
            wake?.resume()
        }
    }
}
