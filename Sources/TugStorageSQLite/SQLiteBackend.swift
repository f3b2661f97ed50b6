import Foundation
import GRDB
import Logging
import Metrics
import Synchronization
public import TugStorage

/// The embedded store: a kine-style append-only log in SQLite, with reads and watches served from memory.
///
/// Writers enqueue operations; one writer loop takes everything pending, validates it against the in-memory state,
/// appends the rows in a single transaction (`synchronous=FULL`: durable once acknowledged, even across `kill -9`
/// or power loss), applies the batch to memory and acknowledges it. Many concurrent writers therefore share one
/// fsync (group commit). Handing a batch's events to watchers overlaps the next batch: with 2,000 watchers it took
/// as long as the transaction, and every write waited for both.
public final class SQLiteBackend: MemoryStateBackend {
    /// Selector attributes of a stored value; throwing marks the record corrupt (it is skipped at recovery).
    public typealias AttributeIndexer = @Sendable (_ key: String, _ value: [UInt8]) throws -> ObjectAttributes

    struct Pending {
        let operation: MemoryState.Operation
        let continuation: CheckedContinuation<StoredObject, any Error>
        let submitted: ContinuousClock.Instant
    }

    public let state: MemoryState
    /// Records found unreadable at start-up (key and reason): left on disk, kept out of every read.
    public var corruptRecords: [CorruptRecord] { corrupt.withLock { $0 } }
    private let corrupt = Mutex<[CorruptRecord]>([])
    let database: DatabaseQueue
    let logger: Logger
    private let pending = Mutex<(queue: [Pending], running: Bool)>(([], true))
    private let wake: AsyncStream<Void>.Continuation
    private let wakeStream: AsyncStream<Void>
    let compactEvery: Int
    let keepRevisions: Int64
    /// Largest batch one transaction takes.
    let maxBatch = 2048
    /// Revisions one compaction transaction covers: the writer runs one between batches until it caught up, so
    /// writes wait for a slice (tens of milliseconds) rather than for a whole compaction (a quarter of a second
    /// with 5,000 leases renewed every 10 s).
    let compactionSlice: Int64
    let metrics = StorageMetrics()
    /// How values are kept on disk (encryption at rest); nil: as they are.
    let transformer: (any ValueTransformer)?

    public init(path: String, historyLimit: Int = 50_000, compactEvery: Int = 10_000, keepRevisions: Int64 = 1_000,
                compactionSlice: Int64 = 1_000, indexedFields: Set<String> = [], logger: Logger = Logger(label: "tug.storage.sqlite"),
                transformer: (any ValueTransformer)? = nil, indexer: AttributeIndexer) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: "PRAGMA synchronous=FULL")
        }
        config.busyMode = .timeout(5)
        database = try DatabaseQueue(path: path, configuration: config)
        self.logger = logger
        self.compactEvery = compactEvery
        self.keepRevisions = keepRevisions
        self.compactionSlice = max(1, compactionSlice)
        self.transformer = transformer
        state = MemoryState(historyLimit: historyLimit, indexedFields: indexedFields)
        (wakeStream, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try migrate()
        try recover(indexer: indexer)
    }

    func migrate() throws {
        try database.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS kine (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    created INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    create_revision INTEGER NOT NULL,
                    prev_revision INTEGER NOT NULL,
                    value BLOB NOT NULL
                );
                CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name, id);
                CREATE TABLE IF NOT EXISTS kine_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """)
            // A real write at every open: a store that cannot be written fails here, not at the first acknowledged
            // write after the server said it was ready.
            try db.execute(sql: "INSERT INTO kine_meta (key, value) VALUES ('schema', 1) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        }
    }

    /// Rebuilds current state: the newest row of each name, unless that row is a deletion.
    func recover(indexer: AttributeIndexer) throws {
        let transformer = self.transformer
        let (objects, corrupt, revision, stale) = try database.read { db in try Self.current(db, indexer: indexer, transformer: transformer) }
        if let transformer, !stale.isEmpty {
            // Values under an older key (or none) are written again under the current one, in place, before serving:
            // rotating a key and restarting re-encrypts everything (`tug secrets-encrypt reencrypt` does it offline).
            try database.write { db in
                let statement = try db.cachedStatement(sql: "UPDATE kine SET value = ? WHERE id = ?")
                for object in stale { try statement.execute(arguments: [Data(try transformer.toStorage(object.value, key: object.key)), object.revision]) }
            }
            logger.info("values written again under the current encryption key", metadata: ["count": "\(stale.count)"])
        }
        // A corrupt record would be spliced as is into every LIST (malformed JSON for all clients): it is reported
        // and kept out of memory, so the rest of the store serves normally. A write of the same name replaces it.
        for record in corrupt {
            logger.error("corrupt stored record skipped", metadata: ["key": "\(record.key)", "error": "\(record.reason)"])
        }
        self.corrupt.withLock { $0 = corrupt }
        state.restore(objects: objects, revision: revision)
        logger.info("store recovered", metadata: ["objects": "\(objects.count)", "corrupt": "\(corrupt.count)", "rv": "\(revision)"])
    }

    /// A record that cannot be read back: its key and why.
    public typealias CorruptRecord = (key: String, reason: String)

    /// The newest row of each name, unless that row is a deletion, split into readable objects and corrupt records;
    /// with the store's revision.
    static func current(_ db: Database, indexer: AttributeIndexer, transformer: (any ValueTransformer)? = nil)
        throws -> ([StoredObject], [CorruptRecord], Int64, stale: [StoredObject]) {
        let revision = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM kine") ?? 0
        let compacted = try Int64.fetchOne(db, sql: "SELECT value FROM kine_meta WHERE key = 'compact_rev'") ?? 0
        let rows = try Row.fetchAll(db, sql: """
            SELECT k.id, k.name, k.create_revision, k.value FROM kine k
            JOIN (SELECT name, MAX(id) AS id FROM kine GROUP BY name) m ON k.id = m.id
            WHERE k.deleted = 0
            """)
        var objects: [StoredObject] = []
        var corrupt: [CorruptRecord] = []
        var stale: [StoredObject] = []
        for row in rows {
            let key: String = row["name"]
            let value: Data = row["value"]
            do {
                var bytes = [UInt8](value)
                var old = false
                if let transformer { (bytes, old) = try transformer.fromStorage(bytes, key: key) }
                let object = StoredObject(key: key, revision: row["id"], createRevision: row["create_revision"], value: bytes,
                                          attributes: try indexer(key, bytes))
                objects.append(object)
                if old { stale.append(object) }
            } catch {
                corrupt.append((key, "\(error)"))
            }
        }
        return (objects, corrupt, max(revision, compacted), stale)
    }

    /// The corrupt records of the store at `path`, read without writing (`tug doctor`, also while a server runs).
    public static func corruptRecords(path: String, indexer: AttributeIndexer) throws -> [CorruptRecord] {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        let database = try DatabaseQueue(path: path, configuration: config)
        return try database.read { db in try current(db, indexer: indexer).1 }
    }

    // MARK: Writes

    func submit(_ operation: MemoryState.Operation) async throws -> StoredObject {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = pending.withLock { p -> Bool in
                guard p.running else { return false }
                p.queue.append(Pending(operation: operation, continuation: continuation, submitted: .now))
                return true
            }
            if accepted { wake.yield() } else { continuation.resume(throwing: StorageError.unavailable("store is shutting down")) }
        }
    }

    public func create(key: String, attributes: ObjectAttributes, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject {
        try await submit(.create(key: key, attributes: attributes, encode: encode))
    }

    public func update(key: String, expectedRevision: Int64?, attributes: ObjectAttributes, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject {
        try await submit(.update(key: key, expectedRevision: expectedRevision, attributes: attributes, encode: encode))
    }

    public func delete(key: String, expectedRevision: Int64?, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject {
        try await submit(.delete(key: key, expectedRevision: expectedRevision, encode: encode))
    }

    /// The writer loop. Runs until cancelled; on exit it fails anything still queued.
    public func run() async {
        var sinceCompaction = 0
        // Each compaction reads the rows after the last one's revision.
        var compacted = (try? await database.read { db in
            try Int64.fetchOne(db, sql: "SELECT value FROM kine_meta WHERE key = 'compact_rev'")
        }) ?? 0
        // The previous batch's events on their way to watchers, while this batch is written.
        var delivering: Task<Void, Never>?
        for await _ in wakeStream {
            while true {
                let batch = pending.withLock { p -> [Pending] in
                    let take = Array(p.queue.prefix(maxBatch))
                    p.queue.removeFirst(take.count)
                    return take
                }
                if batch.isEmpty { break }
                sinceCompaction += await writeBatch(batch, delivering: &delivering)
                if sinceCompaction >= compactEvery {
                    let target = state.currentRevision - keepRevisions
                    let next = await compact(after: compacted, to: min(target, compacted + compactionSlice))
                    // Caught up, or failed (tried again after the next `compactEvery` writes, not after every batch).
                    if next >= target || next == compacted { sinceCompaction = 0 }
                    compacted = next
                }
            }
            if Task.isCancelled { break }
        }
        await delivering?.value
        let leftovers = pending.withLock { p -> [Pending] in
            p.running = false
            defer { p.queue.removeAll() }
            return p.queue
        }
        for p in leftovers { p.continuation.resume(throwing: StorageError.unavailable("store is shutting down")) }
        state.closeWatchers()
    }

    /// Stops accepting writes and lets `run()` drain and return.
    public func shutdown() {
        pending.withLock { $0.running = false }
        wake.finish()
    }

    func writeBatch(_ batch: [Pending], delivering: inout Task<Void, Never>?) async -> Int {
        let clock = ContinuousClock()
        let taken = clock.now
        for p in batch { metrics.queue.recordInterval(since: p.submitted, until: taken) }
        let results = state.prepare(batch.map(\.operation))
        let writes = results.compactMap { try? $0.get() }
        let prepared = clock.now
        metrics.prepare.recordInterval(since: taken, until: prepared)
        do {
            if !writes.isEmpty {
                try await database.write { db in
                    let statement = try db.cachedStatement(sql: "INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    for w in writes {
                        let o = w.event.object
                        let value = try transformer?.toStorage(o.value, key: o.key) ?? o.value
                        try statement.execute(arguments: [o.revision, o.key, w.event.type == .added ? 1 : 0, w.event.type == .deleted ? 1 : 0,
                                                          o.createRevision, w.previousRevision, Data(value)])
                    }
                }
            }
        } catch {
            logger.error("store write failed", metadata: ["error": "\(error)", "writes": "\(writes.count)"])
            for p in batch { p.continuation.resume(throwing: StorageError.unavailable("write failed: \(error)")) }
            return 0
        }
        let durable = clock.now
        metrics.transaction.recordInterval(since: prepared, until: durable)
        let delivery = state.apply(writes)
        metrics.apply.recordInterval(since: durable, until: clock.now)
        metrics.batches.increment()
        metrics.writes.increment(by: writes.count)
        for (p, result) in zip(batch, results) {
            switch result {
            case .success(let w): p.continuation.resume(returning: w.event.object)
            case .failure(let e): p.continuation.resume(throwing: e)
            }
        }
        // One delivery at a time, in the order the batches were applied; this one overlaps the next batch.
        await delivering?.value
        delivering = Task { [state, metrics] in
            let started = ContinuousClock.now
            state.deliver(delivery)
            metrics.publish.recordInterval(since: started, until: .now)
        }
        return writes.count
    }

    /// Drops the rows superseded in (`compacted`, `target`], and deletions in it; returns the revision the log is
    /// now compacted to (`compacted` when it failed). The writer keeps `target` at most `keepRevisions` behind.
    ///
    /// Only the rows written since the last compaction are read, as kine does: each row names the row it superseded
    /// (`prev_revision`), so the rows in (compacted, target] say exactly which older rows are dead. Finding them with
    /// `MAX(id) … GROUP BY name` read the whole log every 10,000 writes instead — at 150,000 pods a growing share of
    /// the server's time in `pread`, with the store's writer waiting meanwhile.
    func compact(after compacted: Int64, to target: Int64) async -> Int64 {
        guard target > compacted else { return compacted }
        let started = ContinuousClock.now
        defer { metrics.compact.recordInterval(since: started, until: .now) }
        do {
            try await database.write { db in
                try db.execute(sql: """
                    DELETE FROM kine WHERE id IN (
                        SELECT prev_revision FROM kine WHERE id > ?1 AND id <= ?2 AND prev_revision != 0
                        UNION ALL
                        SELECT id FROM kine WHERE id > ?1 AND id <= ?2 AND deleted = 1)
                    """, arguments: [compacted, target])
                try db.execute(sql: "INSERT INTO kine_meta (key, value) VALUES ('compact_rev', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               arguments: [target])
            }
            return target
        } catch is CancellationError {
            return compacted  // stopping: the next start compacts from the same revision
        } catch {
            logger.warning("store compaction failed", metadata: ["error": "\(error)"])
            return compacted
        }
    }
}
