/// The cluster store's contract: a revisioned key/value log.
///
/// Every write gets the next global revision (an object's `resourceVersion`). Create fails on a live key; update and
/// delete are compare-and-swap on the revision. Values are produced by an `encode` closure that receives the
/// revision, so stored bytes already carry their `resourceVersion` and reads never re-encode.
public protocol StorageBackend: Sendable {
    func create(key: String, attributes: ObjectAttributes, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject
    /// `expectedRevision` nil means unconditional.
    func update(key: String, expectedRevision: Int64?, attributes: ObjectAttributes, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject
    /// Returns the tombstone: the final state, encoded with the deletion's revision (what a DELETED event carries).
    func delete(key: String, expectedRevision: Int64?, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject

    func get(key: String) -> StoredObject?
    /// Objects whose key starts with `prefix`, sorted by key, with the revision the list reflects.
    func list(prefix: String) -> (items: [StoredObject], revision: Int64)
    /// A page of a LIST: up to `limit` (nil: all) objects under `prefix` with keys after `after`, that `include`
    /// accepts, in key order, at one revision; `remaining` counts the keys left after the last one returned
    /// (accepted or not). `include` runs while the store is locked: it must be quick and must not use the store.
    /// A LIST with a selector and `limit=1` reads until its first match instead of copying every object.
    func scan(prefix: String, after: String?, limit: Int?, where include: (StoredObject) -> Bool) -> ScanPage
    /// Events for keys under `prefix` with revision > `revision`, in order; throws `StorageError.compacted` when
    /// `revision` is older than the retained history. `trigger` and `filter` leave out events the watcher does not
    /// want (see `WatchTrigger`, `WatchFilter`).
    func watch(prefix: String, after revision: Int64, bufferLimit: Int, trigger: WatchTrigger?, filter: WatchFilter?) throws -> WatchStream
    /// Objects under `prefix` whose selectable `field` is `value`, from an index; nil when `field` is not indexed.
    func list(prefix: String, field: String, value: String) -> (items: [StoredObject], revision: Int64)?
    /// How many live objects the resource with key prefix `resourcePrefix` (`/core/pods/`) holds, without a scan.
    func count(resourcePrefix: String) -> Int
    var currentRevision: Int64 { get }
    var compactedRevision: Int64 { get }
    /// Sends every open watch a progress notification with the current revision.
    func notifyProgress()
}

/// What selectors match on, computed by the writer so lists and watches never parse values. Fields with an empty
/// value are not kept: a field selector reads a missing field as "", so it matches them the same.
public struct ObjectAttributes: Sendable, Hashable {
    public var labels: StringPairs
    public var fields: StringPairs

    public init(labels: [String: String] = [:], fields: [String: String] = [:]) {
        self.labels = StringPairs(labels)
        self.fields = StringPairs(fields.filter { !$0.value.isEmpty })
    }
}

public struct StoredObject: Sendable {
    public var key: String
    public var revision: Int64
    public var createRevision: Int64
    public var value: [UInt8]
    public var attributes: ObjectAttributes

    public init(key: String, revision: Int64, createRevision: Int64, value: [UInt8], attributes: ObjectAttributes) {
        self.key = key
        self.revision = revision
        self.createRevision = createRevision
        self.value = value
        self.attributes = attributes
    }
}

public enum StorageEventType: Sendable, Hashable { case added, modified, deleted }

public struct StorageEvent: Sendable {
    public var type: StorageEventType
    public var object: StoredObject
    /// The object before this event (nil for ADDED): selector-filtered watches need it to send DELETED when an
    /// object stops matching.
    public var previous: StoredObject?
}

public enum StorageError: Error, Sendable, Hashable {
    case keyExists(key: String)
    case notFound(key: String)
    case conflict(key: String, current: Int64)
    case compacted(requested: Int64, compacted: Int64)
    case unavailable(String)
}

/// What `StorageBackend.scan` returns.
public struct ScanPage: Sendable {
    public var items: [StoredObject]
    public var revision: Int64
    public var remaining: Int

    public init(items: [StoredObject], revision: Int64, remaining: Int) {
        self.items = items
        self.revision = revision
        self.remaining = remaining
    }
}

/// Backends whose reads and watches are served by a `MemoryState`.
public protocol MemoryStateBackend: StorageBackend {
    var state: MemoryState { get }
}

extension MemoryStateBackend {
    public func get(key: String) -> StoredObject? { state.get(key: key) }
    public func list(prefix: String) -> (items: [StoredObject], revision: Int64) { state.list(prefix: prefix) }
    public func scan(prefix: String, after: String?, limit: Int?, where include: (StoredObject) -> Bool) -> ScanPage {
        state.scan(prefix: prefix, after: after, limit: limit, where: include)
    }
    public func watch(prefix: String, after revision: Int64, bufferLimit: Int, trigger: WatchTrigger?, filter: WatchFilter?) throws -> WatchStream {
        try state.watch(prefix: prefix, after: revision, bufferLimit: bufferLimit, trigger: trigger, filter: filter)
    }
    public func list(prefix: String, field: String, value: String) -> (items: [StoredObject], revision: Int64)? {
        state.list(prefix: prefix, field: field, value: value)
    }
    public func count(resourcePrefix: String) -> Int { state.count(resourcePrefix: resourcePrefix) }
    public var currentRevision: Int64 { state.currentRevision }
    public var compactedRevision: Int64 { state.compactedRevision }
    public func notifyProgress() { state.notifyProgress() }
}

extension StorageBackend {
    public func watch(prefix: String, after revision: Int64, bufferLimit: Int) throws -> WatchStream {
        try watch(prefix: prefix, after: revision, bufferLimit: bufferLimit, trigger: nil, filter: nil)
    }
}
