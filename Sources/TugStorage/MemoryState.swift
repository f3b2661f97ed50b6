import Synchronization

/// The in-memory revisioned state shared by every backend: current objects, recent history and watchers.
///
/// Backends that persist (SQLite) `prepare` a batch against this state, make it durable, then `commit` it; the
/// in-memory backend commits at once. All reads are served from here.
public final class MemoryState: Sendable {
    /// A class, so the registry hands out references: a commit snapshots the interested watchers of every event, and
    /// copying a struct of four references per watcher per event was 7 % of the server's CPU with 2,000 watchers.
    final class Watcher: Sendable {
        init(id: Int, prefix: String, trigger: WatchTrigger?, filter: WatchFilter?, continuation: AsyncStream<WatchStream.Element>.Continuation,
             budget: WatchBudget) {
            self.id = id
            self.prefix = prefix
            self.trigger = trigger
            self.filter = filter
            self.continuation = continuation
            self.budget = budget
        }

        /// The watcher's number in the registry.
        let id: Int
        let prefix: String
        let trigger: WatchTrigger?
        let filter: WatchFilter?
        let continuation: AsyncStream<WatchStream.Element>.Continuation
        let budget: WatchBudget

        /// Queues an event that concerns the watcher; false when it is too far behind (by count or by bytes) to take it.
        func offer(_ event: StorageEvent) -> Bool {
            if let filter, !filter.concerns(event) { return true }
            guard budget.reserve(event) else { return false }
            if case .dropped = continuation.yield(.event(event)) { return false }
            return true
        }

        /// Ends a watcher that fell behind. Never under the state lock (see `commit`).
        func endTooSlow() {
            budget.markOverflowed()
            continuation.finish()
        }
    }

    struct State {
        var objects: [String: StoredObject] = [:]
        var keys = SortedKeys()
        var revision: Int64 = 0
        var history: [StorageEvent] = []
        var historyStart = 0
        /// Bytes of the stored values the live history holds (an event's object and its previous version).
        var historyBytes = 0
        /// Oldest revision a watch may start after (events after it are all in `history`).
        var compacted: Int64 = 0
        var watchers = WatcherRegistry()
        var nextWatcherID = 0
        var index: FieldIndex
        /// Live objects per resource (`/core/pods/`): what a LIST of the resource costs, counted without a scan.
        var resourceCounts: [Substring: Int] = [:]

        /// Drops the oldest events beyond the count or the byte limit. A dropped slot is cleared at once (its
        /// objects freed); the array itself is shifted only once the dead prefix outgrows the live part, so appends
        /// stay amortised O(1).
        mutating func trimHistory(limit: Int, byteLimit: Int) {
            while history.count - historyStart > 0, history.count - historyStart > limit || historyBytes > byteLimit {
                compacted = history[historyStart].object.revision
                historyBytes -= MemoryState.bytes(of: history[historyStart])
                history[historyStart] = MemoryState.cleared
                historyStart += 1
            }
            if historyStart > 1024, historyStart > history.count - historyStart {
                history.removeFirst(historyStart)
                historyStart = 0
            }
        }

        /// Index of the first live history event with a revision after `revision` (`history.count` when none).
        func firstEvent(after revision: Int64) -> Int {
            var low = historyStart, high = history.count
            while low < high {
                let middle = (low + high) / 2
                if history[middle].object.revision > revision { high = middle } else { low = middle + 1 }
            }
            return low
        }

        mutating func count(_ key: String, by delta: Int) {
            let prefix = MemoryState.resourcePrefix(of: key)
            let n = (resourceCounts[prefix] ?? 0) + delta
            resourceCounts[prefix] = n > 0 ? n : nil
        }
    }

    private let state: Mutex<State>
    /// Held while a commit hands its events to watchers (outside `state`), so deliveries keep commit order; holds
    /// the revision of the last event delivered, which progress notifications carry.
    private let delivery = Mutex<Int64>(0)
    let historyLimit: Int
    /// The most bytes of stored values the history may hold: old versions stay alive only through it, so at
    /// tens of thousands of objects a count alone let it hold hundreds of MiB.
    let historyByteLimit: Int
    /// The most bytes of stored values one watcher may have queued and unread (events share the stored bytes with
    /// history, but a queue outliving the history keeps them alive).
    let watcherByteLimit: Int

    /// `indexedFields`: selectable fields whose values LIST can look up without a scan (see `list(prefix:field:value:)`).
    public init(historyLimit: Int = 50_000, historyByteLimit: Int = 128 << 20, watcherByteLimit: Int = 32 << 20, indexedFields: Set<String> = []) {
        self.historyLimit = historyLimit
        self.historyByteLimit = historyByteLimit
        self.watcherByteLimit = watcherByteLimit
        state = Mutex(State(index: FieldIndex(fields: indexedFields)))
    }

    /// Loads state recovered from disk; history starts empty, so watches from older revisions get 410.
    public func restore(objects: [StoredObject], revision: Int64) {
        state.withLock { s in
            s.objects = Dictionary(objects.map { ($0.key, $0) }, uniquingKeysWith: { a, b in a.revision > b.revision ? a : b })
            s.index.removeAll()
            s.keys.removeAll()
            s.resourceCounts = [:]
            for object in s.objects.values {
                s.index.insert(object)
                s.keys.insert(object.key)
                s.count(object.key, by: 1)
            }
            s.revision = revision
            s.compacted = revision
        }
        delivery.withLock { $0 = revision }
    }

    public var currentRevision: Int64 { state.withLock { $0.revision } }
    public var compactedRevision: Int64 { state.withLock { $0.compacted } }

    public func get(key: String) -> StoredObject? { state.withLock { $0.objects[key] } }

    /// How many live objects a resource holds; `resourcePrefix` is its key prefix without a namespace (`/core/pods/`).
    public func count(resourcePrefix: String) -> Int {
        state.withLock { $0.resourceCounts[Substring(resourcePrefix)] ?? 0 }
    }

    /// A key's first two segments: `/core/pods/ns/name` → `/core/pods/`.
    static func resourcePrefix(of key: String) -> Substring {
        var slashes = 0
        for i in key.indices where key[i] == "/" {
            slashes += 1
            if slashes == 3 { return key[...i] }
        }
        return Substring(key)
    }

    public func list(prefix: String) -> (items: [StoredObject], revision: Int64) {
        let page = scan(prefix: prefix, after: nil, limit: nil) { _ in true }
        return (page.items, page.revision)
    }

    /// See `StorageBackend.scan`.
    public func scan(prefix: String, after: String?, limit: Int?, where include: (StoredObject) -> Bool) -> ScanPage {
        state.withLock { s in
            let (start, end) = s.keys.range(withPrefix: prefix)
            var position = start
            if let after, after >= prefix { position = s.keys.first { $0 > after } }
            position = min(position, end)
            var items: [StoredObject] = []
            if let limit { items.reserveCapacity(min(limit, 4096)) }
            var examined = 0
            s.keys.forEach(from: position, to: end) { key in
                if let limit, items.count >= limit { return false }
                examined += 1
                if let object = s.objects[key], include(object) { items.append(object) }
                return true
            }
            // Keys under the prefix after the last one looked at (a LIST's remainingItemCount).
            let remaining = s.keys.rank(end) - s.keys.rank(position) - examined
            return ScanPage(items: items, revision: s.revision, remaining: remaining)
        }
    }

    /// Objects under `prefix` whose `field` is `value`, sorted by key, from the index: the cost is what it returns.
    /// Nil when `field` is not indexed or `value` is empty (answered by a scan).
    public func list(prefix: String, field: String, value: String) -> (items: [StoredObject], revision: Int64)? {
        state.withLock { s in
            guard s.index.covers(field, value: value) else { return nil }
            let keys = s.index.keys(field, value).filter { $0.hasPrefix(prefix) }.sorted()
            return (keys.compactMap { s.objects[$0] }, s.revision)
        }
    }

    // MARK: Writes

    public enum Operation: Sendable {
        case create(key: String, attributes: ObjectAttributes, encode: @Sendable (Int64) throws -> [UInt8])
        case update(key: String, expectedRevision: Int64?, attributes: ObjectAttributes, encode: @Sendable (Int64) throws -> [UInt8])
        case delete(key: String, expectedRevision: Int64?, encode: @Sendable (Int64) throws -> [UInt8])
    }

    /// One validated write with its revision assigned, ready to persist.
    public struct PreparedWrite: Sendable {
        public var event: StorageEvent
        public var previousRevision: Int64
    }

    /// Validates a batch in order against current state (and earlier writes of the same batch), assigning
    /// consecutive revisions. A failing operation yields its error and consumes no revision.
    public func prepare(_ operations: [Operation]) -> [Result<PreparedWrite, any Error>] {
        state.withLock { s in
            var overlay: [String: StoredObject?] = [:]
            var revision = s.revision
            func current(_ key: String) -> StoredObject? {
                if let o = overlay[key] { return o }
                return s.objects[key]
            }
            return operations.map { op -> Result<PreparedWrite, any Error> in
                do {
                    switch op {
                    case .create(let key, let attributes, let encode):
                        if current(key) != nil { throw StorageError.keyExists(key: key) }
                        let rev = revision + 1
                        let object = StoredObject(key: key, revision: rev, createRevision: rev, value: try encode(rev), attributes: attributes)
                        revision = rev
                        overlay[key] = object
                        return .success(PreparedWrite(event: StorageEvent(type: .added, object: object, previous: nil), previousRevision: 0))
                    case .update(let key, let expected, let attributes, let encode):
                        guard let old = current(key) else { throw StorageError.notFound(key: key) }
                        if let expected, expected != old.revision { throw StorageError.conflict(key: key, current: old.revision) }
                        let rev = revision + 1
                        // `old.key`: every version shares the first one's key string (the caller builds a new one per
                        // request; kept per version, a pod's three writes held three copies of its key, 44 MB at
                        // 150,000 pods).
                        let object = StoredObject(key: old.key, revision: rev, createRevision: old.createRevision, value: try encode(rev),
                                                  attributes: attributes)
                        revision = rev
                        overlay[key] = object
                        return .success(PreparedWrite(event: StorageEvent(type: .modified, object: object, previous: old), previousRevision: old.revision))
                    case .delete(let key, let expected, let encode):
                        guard let old = current(key) else { throw StorageError.notFound(key: key) }
                        if let expected, expected != old.revision { throw StorageError.conflict(key: key, current: old.revision) }
                        let rev = revision + 1
                        let tombstone = StoredObject(key: old.key, revision: rev, createRevision: old.createRevision, value: try encode(rev), attributes: old.attributes)
                        revision = rev
                        overlay[key] = .some(nil)
                        return .success(PreparedWrite(event: StorageEvent(type: .deleted, object: tombstone, previous: old), previousRevision: old.revision))
                    }
                } catch {
                    return .failure(error)
                }
            }
        }
    }

    /// A commit's events, each with the watchers it concerns as they were when the state changed.
    public struct Delivery: Sendable {
        /// Each event with the groups of watchers it concerns (copy-on-write references to the registry's arrays).
        fileprivate let events: [(event: StorageEvent, groups: [WatcherRegistry.Group])]
        fileprivate let revision: Int64
    }

    /// Applies prepared writes (already durable, in revision order) and delivers their events.
    public func commit(_ writes: [PreparedWrite]) {
        guard !writes.isEmpty else { return }
        // Applied and delivered under the delivery lock, so concurrent commits deliver in the order they applied.
        delivery.withLock { delivered in fanOut(apply(writes), delivered: &delivered) }
    }

    /// Applies prepared writes (already durable, in revision order) to the state, which reads see at once, and
    /// returns their events for `deliver`. A watcher registered from now on replays these events from history and
    /// is not in the returned snapshot, so it sees every event exactly once.
    ///
    /// For one writer that overlaps the next batch with handing this one to watchers: the caller delivers every
    /// delivery it applied, in the order it applied them.
    public func apply(_ writes: [PreparedWrite]) -> Delivery {
        state.withLock { s -> Delivery in
            var events: [(event: StorageEvent, groups: [WatcherRegistry.Group])] = []
            events.reserveCapacity(writes.count)
            for write in writes {
                let event = write.event
                switch event.type {
                case .added:
                    s.objects[event.object.key] = event.object
                    s.index.insert(event.object)
                    s.count(event.object.key, by: 1)
                    s.keys.insert(event.object.key)
                case .modified:
                    s.objects[event.object.key] = event.object
                    s.index.update(from: event.previous, to: event.object)
                case .deleted:
                    if let old = s.objects.removeValue(forKey: event.object.key) {
                        s.index.remove(old)
                        s.count(old.key, by: -1)
                        s.keys.remove(old.key)
                    }
                }
                s.revision = max(s.revision, event.object.revision)
                s.history.append(event)
                s.historyBytes += Self.bytes(of: event)
                var groups: [WatcherRegistry.Group] = []
                s.watchers.interested(in: event) { groups.append($0) }
                events.append((event, groups))
            }
            s.trimHistory(limit: historyLimit, byteLimit: historyByteLimit)
            return Delivery(events: events, revision: s.revision)
        }
    }

    /// Hands an applied batch's events to its watchers (see `apply`).
    public func deliver(_ batch: Delivery) {
        delivery.withLock { delivered in fanOut(batch, delivered: &delivered) }
    }

    /// Under the delivery lock, outside the state lock: reads and writes do not wait on the fan-out (with 2,000
    /// watchers of one namespace's pods it held the state lock for a fifth of the server's time).
    private func fanOut(_ batch: Delivery, delivered: inout Int64) {
        var behind: [Int: Watcher] = [:]
        for (event, groups) in batch.events {
            for group in groups {
                for watcher in group where behind.isEmpty || behind[watcher.id] == nil {
                    if !watcher.offer(event) { behind[watcher.id] = watcher }
                }
            }
        }
        delivered = max(delivered, batch.revision)
        guard !behind.isEmpty else { return }
        // Ended outside the state lock: `finish()` runs the stream's `onTermination` at once, and that
        // unregisters the watcher under the state lock.
        let removed = state.withLock { s in behind.keys.compactMap { s.watchers.remove($0) } }
        for watcher in removed { watcher.endTooSlow() }
    }

    static func bytes(of event: StorageEvent) -> Int {
        event.object.value.count + (event.previous?.value.count ?? 0)
    }

    /// What a dropped history slot holds until the array is shifted.
    static let cleared = StorageEvent(type: .deleted, object: StoredObject(key: "", revision: 0, createRevision: 0, value: [],
                                                                          attributes: ObjectAttributes(labels: [:], fields: [:])))

    /// Events under `prefix` after `revision`; with a `trigger`, only events whose object has (or had) its value;
    /// with a `filter`, only events it says concern the watcher.
    public func watch(prefix: String, after revision: Int64, bufferLimit: Int, trigger: WatchTrigger? = nil,
                      filter: WatchFilter? = nil) throws -> WatchStream {
        let (stream, continuation) = AsyncStream<WatchStream.Element>.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit))
        let budget = WatchBudget(byteLimit: watcherByteLimit)
        let (watcher, registered) = try state.withLock { s -> (Watcher, Bool) in
            if revision < s.compacted { throw StorageError.compacted(requested: revision, compacted: s.compacted) }
            let watcher = Watcher(id: s.nextWatcherID, prefix: prefix, trigger: trigger, filter: filter, continuation: continuation, budget: budget)
            s.nextWatcherID += 1
            // A replay that overflows the buffer is too slow from the start: it is never registered. History is in
            // revision order, so a watch from a recent revision (a reflector's re-open) skips the older events at
            // once instead of stepping through 50,000 of them under the lock.
            for index in s.firstEvent(after: revision)..<s.history.count {
                let event = s.history[index]
                guard event.object.key.hasPrefix(prefix) else { continue }
                if let trigger, !Self.concerns(event, trigger) { continue }
                if !watcher.offer(event) { return (watcher, false) }
            }
            s.watchers.insert(watcher)
            return (watcher, true)
        }
        guard registered else {
            watcher.endTooSlow()
            return WatchStream(stream: stream, budget: budget, onCancel: {})
        }
        let id = watcher.id
        // Never called under the state lock: it takes the lock, and `finish()` calls it back through `onTermination`.
        let cancel: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            let removed = self.state.withLock { $0.watchers.remove(id) }
            removed?.continuation.finish()
        }
        continuation.onTermination = { _ in cancel() }
        return WatchStream(stream: stream, budget: budget, onCancel: cancel)
    }

    /// Tells every watcher the revision of the last event delivered. Sent between deliveries (under the delivery
    /// lock), so it is ordered after every event it covers; a batch applied but not yet delivered is not covered,
    /// or a reflector resuming from the bookmark would skip its events.
    public func notifyProgress() {
        delivery.withLock { delivered in
            let watchers = state.withLock { s -> [Watcher] in
                var all: [Watcher] = []
                s.watchers.forEach { all.append($0) }
                return all
            }
            for watcher in watchers { watcher.continuation.yield(.progress(delivered)) }
        }
    }

    /// Ends every watch (server shutdown).
    public func closeWatchers() {
        let watchers = state.withLock { s -> [Watcher] in s.watchers.removeAll() }
        for w in watchers { w.continuation.finish() }
    }

    static func concerns(_ event: StorageEvent, _ trigger: WatchTrigger) -> Bool {
        (event.object.attributes.fields[trigger.field] ?? "") == trigger.value
            || event.previous.map { ($0.attributes.fields[trigger.field] ?? "") == trigger.value } ?? false
    }
}
