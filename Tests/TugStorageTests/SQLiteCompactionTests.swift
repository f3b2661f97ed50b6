import Foundation
import GRDB
import Testing
@testable import TugStorage
@testable import TugStorageSQLite

/// The log's compaction reads only the rows written since the previous one; what it leaves must still be the
/// whole state, and no dead row at or before the compacted revision may survive.
@Suite struct SQLiteCompactionTests {
    struct Row: Equatable {
        var id: Int64
        var name: String
        var deleted: Bool
    }

    static func rows(_ path: String) throws -> (rows: [Row], compacted: Int64) {
        let db = try DatabaseQueue(path: path)
        return try db.read { db in
            let rows = try GRDB.Row.fetchAll(db, sql: "SELECT id, name, deleted FROM kine ORDER BY id").map {
                Row(id: $0["id"], name: $0["name"], deleted: ($0["deleted"] as Int64) != 0)
            }
            return (rows, try Int64.fetchOne(db, sql: "SELECT value FROM kine_meta WHERE key = 'compact_rev'") ?? 0)
        }
    }

    /// With the default slice, and with slices so small that each compaction takes several writer turns.
    @Test(arguments: [1_000, 4] as [Int64]) func compactionDropsExactlyTheDeadRowsAndKeepsTheState(slice: Int64) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-compact-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/state.db"
        let store = try SQLiteBackend(path: path, historyLimit: 100, compactEvery: 25, keepRevisions: 10,
                                      compactionSlice: slice, indexer: { _, _ in ObjectAttributes() })
        var live: [String: Int64] = [:]  // key → revision of its newest version
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer {
                store.shutdown()
                group.cancelAll()
            }
            // Creates, updates and deletes (and re-creates after a deletion) over a few keys, one at a time so each
            // batch holds one write and compactions fall all through the run.
            // A fixed pseudo-random walk (a 64-bit LCG), so a failure replays.
            var x: UInt64 = 7
            func next() -> UInt64 { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return x >> 33 }
            for step in 0..<600 {
                let key = "/k/\(next() % 12)"
                if live[key] != nil {
                    if next() % 4 == 0 {
                        _ = try await store.delete(key: key, expectedRevision: nil, encode: bytes("gone\(step)"))
                        live[key] = nil
                    } else {
                        live[key] = try await store.update(key: key, expectedRevision: nil, attributes: .init(), encode: bytes("v\(step)")).revision
                    }
                } else {
                    live[key] = try await store.create(key: key, attributes: .init(), encode: bytes("c\(step)")).revision
                }
            }
        }
        let (rows, compacted) = try Self.rows(path)
        let newest = try #require(rows.last?.id)
        #expect(compacted > 0 && compacted < newest, "no compaction ran (compact_rev \(compacted), newest row \(newest))")
        // Every live key's newest version is on disk.
        let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
        for (key, revision) in live { #expect(byID[revision]?.name == key && byID[revision]?.deleted == false) }
        // At or before the compacted revision: no deletion, and no version superseded at or before it.
        let old = rows.filter { $0.id <= compacted }
        #expect(old.filter(\.deleted).isEmpty)
        #expect(Set(old.map(\.name)).count == old.count)
        // And the log reads back as the same state.
        let reopened = try SQLiteBackend(path: path, indexer: { _, _ in ObjectAttributes() })
        let restored = Dictionary(uniqueKeysWithValues: reopened.state.list(prefix: "/k/").items.map { ($0.key, $0.revision) })
        #expect(restored == live)
    }
}
