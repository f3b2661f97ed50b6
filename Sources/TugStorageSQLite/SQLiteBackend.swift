import Foundation
import GRDB
import Logging
import Synchronization
public import TugStorage

/// The embedded store: a kine-style append-only log in SQLite, with reads and watches served from memory.
///
/// Writers enqueue operations; one writer loop takes everything pending, validates it against the in-memory state,
/// appends the rows in a single transaction (`synchronous=FULL`: durable once acknowledged, even across `kill -9`
/// or power loss), then publishes the batch. Many concurrent writers therefore share one fsync (group commit).
public final class SQLiteBackend: MemoryStateBackend {
    /// Selector attributes of a stored value; throwing marks the record corrupt (it is skipped at recovery).
    public typealias AttributeIndexer = @Sendable (_ key: String, _ value: [UInt8]) throws -> ObjectAttributes

    struct Pending {
        let operation: MemoryState.Operation
        let continuation: CheckedContinuation<StoredObject, any Error>
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

    public init(path: String, historyLimit: Int = 50_000, compactEvery: Int = 10_000, keepRevisions: Int64 = 1_000,
                indexedFields: Set<String> = [], logger: Logger = Logger(label: "tug.storage.sqlite"), indexer: AttributeIndexer) throws {
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
        let (objects, corrupt, revision) = try database.read { db in try Self.current(db, indexer: indexer) }
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
    static func current(_ db: Database, indexer: AttributeIndexer) throws -> ([StoredObject], [CorruptRecord], Int64) {
        let revision = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM kine") ?? 0
        let compacted = try Int64.fetchOne(db, sql: "SELECT value FROM kine_meta WHERE key = 'compact_rev'") ?? 0
        let rows = try Row.fetchAll(db, sql: """
            SELECT k.id, k.name, k.create_revision, k.value FROM kine k
            JOIN (SELECT name, MAX(id) AS id FROM kine GROUP BY name) m ON k.id = m.id
            WHERE k.deleted = 0
            """)
        var objects: [StoredObject] = []
        var corrupt: [CorruptRecord] = []
        for row in rows {
            let key: String = row["name"]
            let value: Data = row["value"]
            let bytes = [UInt8](value)
            do {
                objects.append(StoredObject(key: key, revision: row["id"], createRevision: row["create_revision"], value: bytes,
                                            attributes: try indexer(key, bytes)))
            } catch {
                corrupt.append((key, "\(error)"))
            }
        }
        return (objects, corrupt, max(revision, compacted))
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
                p.queue.append(Pending(operation: operation, continuation: continuation))
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
        for await _ in wakeStream {
            while true {
                let batch = pending.withLock { p -> [Pending] in
                    let take = Array(p.queue.prefix(maxBatch))
                    p.queue.removeFirst(take.count)
                    return take
                }
                if batch.isEmpty { break }
                sinceCompaction += await writeBatch(batch)
                if sinceCompaction >= compactEvery {
                    sinceCompaction = 0
                    compact()
                }
            }
            if Task.isCancelled { break }
        }
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

    func writeBatch(_ batch: [Pending]) async -> Int {
        let results = state.prepare(batch.map(\.operation))
        let writes = results.compactMap { try? $0.get() }
        do {
            if !writes.isEmpty {
                try await database.write { db in
                    let statement = try db.cachedStatement(sql: "INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    for w in writes {
                        let o = w.event.object
                        try statement.execute(arguments: [o.revision, o.key, w.event.type == .added ? 1 : 0, w.event.type == .deleted ? 1 : 0,
                                                          o.createRevision, w.previousRevision, Data(o.value)])
                    }
                }
            }
        } catch {
            logger.error("store write failed", metadata: ["error": "\(error)", "writes": "\(writes.count)"])
            for p in batch { p.continuation.resume(throwing: StorageError.unavailable("write failed: \(error)")) }
            return 0
        }
        state.commit(writes)
        for (p, result) in zip(batch, results) {
            switch result {
            case .success(let w): p.continuation.resume(returning: w.event.object)
            case .failure(let e): p.continuation.resume(throwing: e)
            }
        }
        return writes.count
    }

    /// Drops rows superseded more than `keepRevisions` ago, and old deletions.
    func compact() {
        let target = state.currentRevision - keepRevisions
        guard target > 0 else { return }
        do {
            try database.write { db in
                try db.execute(sql: """
                    DELETE FROM kine WHERE id <= ? AND (deleted = 1 OR id NOT IN (SELECT MAX(id) FROM kine GROUP BY name))
                    """, arguments: [target])
                try db.execute(sql: "INSERT INTO kine_meta (key, value) VALUES ('compact_rev', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               arguments: [target])
            }
        } catch {
            logger.warning("store compaction failed", metadata: ["error": "\(error)"])
        }
    }
}
