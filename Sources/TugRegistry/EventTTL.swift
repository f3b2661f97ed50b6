import Foundation
import Logging
public import ServiceLifecycle
import Synchronization
import TugAPI
import TugAPIMachinery
import TugStorage

/// Deletes each Event one TTL after its last write, as kube-apiserver's `--event-ttl` (1 h by default; upstream
/// attaches an etcd lease to every Event write).
///
/// Without it every Event ever recorded stayed in the store and in memory: loading 150,000 pods left 150,780 Events,
/// and a soak that replaces ten pods a second grew the server's live heap by a steady 2 MiB a minute.
///
/// Writes seen by a watch of the Events get a whole TTL from the moment they arrive. Events found by a LIST (at
/// start-up, or after that watch ended) expire one TTL after the latest of their own timestamps, clamped to
/// `[now, now + ttl]`: the store keeps no write times, and a server restarted more often than the TTL must still
/// expire its Events.
public struct EventTTL: Service {
    let store: ObjectStore
    let ttl: Duration
    let logger: Logger

    public init(store: ObjectStore, ttl: Duration, logger: Logger = Logger(label: "tug.events.ttl")) {
        self.store = store
        self.ttl = ttl
        self.logger = logger
    }

    /// The queue both loops share.
    final class Queue: Sendable {
        let expiry = Mutex(EventExpiry<ContinuousClock.Instant>())
    }

    public func run() async throws {
        guard let definition = store.definition(group: "", resource: "events") else { return }
        let prefix = StorageKeys.prefix(definition, namespace: nil)
        let queue = Queue()
        // Both loops end on cancellation; graceful shutdown cancels them.
        try? await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await follow(prefix, queue) }
                group.addTask { await expire(queue) }
            }
        }
    }

    /// Queues every Event write: the current Events, then each write the watch brings, until cancelled.
    func follow(_ prefix: String, _ queue: Queue) async {
        while !Task.isCancelled {
            // Subscribed before listing, so no write between the two is missed (one seen twice is harmless).
            let revision = store.backend.currentRevision
            guard let stream = try? store.backend.watch(prefix: prefix, after: revision, bufferLimit: 10_000) else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            let found = await listed(store.backend.list(prefix: prefix).items)
            queue.expiry.withLock { $0.reset(found) }
            for await element in stream {
                guard case .event(let event) = element, event.type != .deleted else { continue }
                let deadline = ContinuousClock.now + ttl
                queue.expiry.withLock { $0.append(key: event.object.key, revision: event.object.revision, deadline: deadline) }
            }
            // Ended: cancelled, or too far behind (then listed again).
            stream.cancel()
        }
    }

    /// Deadlines of listed Events, from their timestamps.
    func listed(_ items: [StoredObject]) async -> [EventExpiry<ContinuousClock.Instant>.Entry] {
        let now = ContinuousClock.now
        let wallNow = Date()
        var entries: [EventExpiry<ContinuousClock.Instant>.Entry] = []
        entries.reserveCapacity(items.count)
        for (i, stored) in items.enumerated() {
            // Decoding 150,000 Events takes seconds of one core: other tasks get their turn meanwhile.
            if i % 1_000 == 999 { await Task.yield() }
            var remaining = ttl
            if let object = try? store.decode(stored), let written = Self.lastWritten(object) {
                // Clamped before converting: a timestamp far in the past or in the future must not trap.
                let ttlSeconds = Double(ttl.nanoseconds) / 1e9
                let age = min(max(0, wallNow.timeIntervalSince(written)), ttlSeconds)
                remaining = ttl - .milliseconds(Int64(age * 1000))
            }
            entries.append(.init(key: stored.key, revision: stored.revision, deadline: now + remaining))
        }
        return entries
    }

    /// The latest time an Event says it was written at: its creation, last occurrence, event time or the last
    /// observation of its series (core/v1 names; events.k8s.io Events are stored as core/v1).
    static func lastWritten(_ event: JSONValue) -> Date? {
        let times = [event["metadata"]["creationTimestamp"], event["lastTimestamp"], event["eventTime"], event["series"]["lastObservedTime"]]
        return times.compactMap { $0.stringValue.flatMap(KubeTime.parse) }.max()
    }

    /// Deletes the Events that came due, until cancelled.
    func expire(_ queue: Queue) async {
        // Often enough for a short TTL, rarely for the default hour.
        let interval = min(Duration.seconds(1), ttl / 10)
        while !Task.isCancelled {
            let due = queue.expiry.withLock { $0.takeDue(at: ContinuousClock.now) }
            for entry in due where !Task.isCancelled { await delete(entry) }
            try? await Task.sleep(for: interval)
        }
    }

    /// Deletes an Event if it is still at the revision that came due.
    func delete(_ entry: EventExpiry<ContinuousClock.Instant>.Entry) async {
        guard let stored = store.backend.get(key: entry.key), stored.revision == entry.revision,
              let object = try? store.decode(stored) else { return }
        do {
            _ = try await store.backend.delete(key: entry.key, expectedRevision: entry.revision, encode: store.encoder(object))
        } catch StorageError.conflict, StorageError.notFound {
            return  // written again (its later entry decides) or already gone
        } catch {
            logger.warning("an expired event was not deleted", metadata: ["key": "\(entry.key)", "error": "\(error)"])
        }
    }
}
