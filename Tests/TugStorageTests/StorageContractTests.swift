import Foundation
import Testing
import TugStorage
import TugStorageSQLite

/// One contract, every backend.
enum Backends {
    static func make(_ name: String) throws -> (any StorageBackend, cleanup: @Sendable () -> Void, run: (@Sendable () async -> Void)?) {
        switch name {
        case "memory":
            return (InMemoryBackend(), {}, nil)
        default:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-storage-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let backend = try SQLiteBackend(path: "\(dir)/state.db", historyLimit: 100, indexer: { _, _ in ObjectAttributes() })
            return (backend, { try? FileManager.default.removeItem(atPath: dir) }, { await backend.run() })
        }
    }

    static func with(_ name: String, _ body: (any StorageBackend) async throws -> Void) async throws {
        let (backend, cleanup, run) = try make(name)
        defer { cleanup() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let run { group.addTask { await run() } }
            defer {
                (backend as? SQLiteBackend)?.shutdown()
                group.cancelAll()
            }
            try await body(backend)
        }
    }
}

func bytes(_ s: String) -> @Sendable (Int64) -> [UInt8] { { rev in Array("\(s)@\(rev)".utf8) } }

@Suite struct StorageContractTests {
    static let backends = ["memory", "sqlite"]

    @Test(arguments: backends) func createGetAndRevisions(_ name: String) async throws {
        try await Backends.with(name) { store in
            let a = try await store.create(key: "/r/ns/a", attributes: .init(labels: ["x": "1"]), encode: bytes("a"))
            let b = try await store.create(key: "/r/ns/b", attributes: .init(), encode: bytes("b"))
            #expect(b.revision == a.revision + 1)
            #expect(String(decoding: store.get(key: "/r/ns/a")?.value ?? [], as: UTF8.self) == "a@\(a.revision)")
            #expect(store.get(key: "/r/ns/a")?.attributes.labels == ["x": "1"])
            await #expect(throws: StorageError.keyExists(key: "/r/ns/a")) {
                _ = try await store.create(key: "/r/ns/a", attributes: .init(), encode: bytes("again"))
            }
            #expect(store.currentRevision == b.revision)
        }
    }

    @Test(arguments: backends) func updateAndDeleteAreCompareAndSwap(_ name: String) async throws {
        try await Backends.with(name) { store in
            let a = try await store.create(key: "/r/a", attributes: .init(), encode: bytes("v1"))
            let updated = try await store.update(key: "/r/a", expectedRevision: a.revision, attributes: .init(), encode: bytes("v2"))
            #expect(updated.createRevision == a.revision)
            await #expect(throws: StorageError.conflict(key: "/r/a", current: updated.revision)) {
                _ = try await store.update(key: "/r/a", expectedRevision: a.revision, attributes: .init(), encode: bytes("stale"))
            }
            await #expect(throws: StorageError.conflict(key: "/r/a", current: updated.revision)) {
                _ = try await store.delete(key: "/r/a", expectedRevision: a.revision, encode: bytes("gone"))
            }
            let tombstone = try await store.delete(key: "/r/a", expectedRevision: updated.revision, encode: bytes("gone"))
            #expect(tombstone.revision == updated.revision + 1)
            #expect(store.get(key: "/r/a") == nil)
            await #expect(throws: StorageError.notFound(key: "/r/a")) {
                _ = try await store.update(key: "/r/a", expectedRevision: nil, attributes: .init(), encode: bytes("x"))
            }
            // A key can be created again after deletion.
            _ = try await store.create(key: "/r/a", attributes: .init(), encode: bytes("v3"))
        }
    }

    @Test(arguments: backends) func listsByPrefixInKeyOrder(_ name: String) async throws {
        try await Backends.with(name) { store in
            for key in ["/r/b/2", "/r/a/1", "/r/b/1", "/q/x", "/r/bb/1"] {
                _ = try await store.create(key: key, attributes: .init(), encode: bytes(key))
            }
            #expect(store.list(prefix: "/r/b/").items.map(\.key) == ["/r/b/1", "/r/b/2"])
            #expect(store.list(prefix: "/r/").items.map(\.key) == ["/r/a/1", "/r/b/1", "/r/b/2", "/r/bb/1"])
            #expect(store.list(prefix: "/r/").revision == store.currentRevision)
            let page = store.scan(prefix: "/r/", after: "/r/a/1", limit: 2) { $0.key != "/r/b/2" }
            #expect(page.items.map(\.key) == ["/r/b/1", "/r/bb/1"])
            #expect(page.remaining == 0)
            let first = store.scan(prefix: "/r/", after: nil, limit: 1) { _ in true }
            #expect(first.items.map(\.key) == ["/r/a/1"] && first.remaining == 3)
        }
    }

    @Test(arguments: backends) func watchReplaysInOrderThenFollows(_ name: String) async throws {
        try await Backends.with(name) { store in
            let first = try await store.create(key: "/w/a", attributes: .init(), encode: bytes("a"))
            _ = try await store.update(key: "/w/a", expectedRevision: first.revision, attributes: .init(), encode: bytes("a2"))
            _ = try await store.create(key: "/other/x", attributes: .init(), encode: bytes("x"))
            let stream = try store.watch(prefix: "/w/", after: first.revision - 1, bufferLimit: 100)
            defer { stream.cancel() }
            _ = try await store.delete(key: "/w/a", expectedRevision: nil, encode: bytes("bye"))
            var seen: [(StorageEventType, Int64)] = []
            for await element in stream {
                guard case .event(let e) = element else { break }
                seen.append((e.type, e.object.revision))
                if seen.count == 3 { break }
            }
            #expect(seen.map(\.0) == [.added, .modified, .deleted])
            #expect(seen.map(\.1) == seen.map(\.1).sorted())
        }
    }

    @Test(arguments: backends) func watchFromCompactedRevisionFails(_ name: String) async throws {
        try await Backends.with(name) { store in
            for i in 0..<150 { _ = try await store.create(key: "/c/\(i)", attributes: .init(), encode: bytes("\(i)")) }
            if name == "memory" { return }  // the in-memory default history is far larger than this test writes
            #expect(store.compactedRevision > 1)
            #expect(throws: StorageError.self) { _ = try store.watch(prefix: "/c/", after: 1, bufferLimit: 10) }
        }
    }

    @Test func watchReplaysExactlyTheEventsAfterItsRevision() async throws {
        // A history trimmed at its front (the live part starts past index 0), with other keys interleaved: every
        // start from the oldest watchable revision to the newest replays exactly the later events of its prefix.
        let store = InMemoryBackend(historyLimit: 40)
        var mine: [Int64] = []
        for i in 0..<100 {
            let key = i % 3 == 0 ? "/other/\(i)" : "/mine/\(i)"
            let object = try await store.create(key: key, attributes: .init(), encode: bytes("\(i)"))
            if i % 3 != 0 { mine.append(object.revision) }
        }
        let compacted = store.compactedRevision
        #expect(compacted > 50)
        for start in compacted...store.currentRevision {
            let stream = try store.watch(prefix: "/mine/", after: start, bufferLimit: 100)
            stream.cancel()
            var seen: [Int64] = []
            for await element in stream {
                if case .event(let e) = element { seen.append(e.object.revision) }
            }
            #expect(seen == mine.filter { $0 > start }, "watch after \(start)")
        }
    }

    @Test func historyIsBoundedInBytes() async throws {
        // 1 KiB values against a 10 KiB history: old versions are dropped (and freed) long before the count limit.
        let store = InMemoryBackend(historyLimit: 50_000, historyByteLimit: 10 << 10)
        let value = [UInt8](repeating: 0x61, count: 1024)
        _ = try await store.create(key: "/h/a", attributes: .init(), encode: { _ in value })
        for _ in 0..<100 { _ = try await store.update(key: "/h/a", expectedRevision: nil, attributes: .init(), encode: { _ in value }) }
        let compacted = store.compactedRevision
        // Each update holds its object and the version before it: at most 10 KiB is 5 events.
        #expect(compacted >= 95)
        #expect(throws: StorageError.self) { _ = try store.watch(prefix: "/h/", after: compacted - 1, bufferLimit: 10) }
        let stream = try store.watch(prefix: "/h/", after: compacted, bufferLimit: 10)
        stream.cancel()
    }

    @Test(arguments: backends) func concurrentWritersGetDistinctRevisions(_ name: String) async throws {
        try await Backends.with(name) { store in
            let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<200 {
                    group.addTask { try await store.create(key: "/p/\(i)", attributes: .init(), encode: bytes("\(i)")).revision }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(Set(revisions).count == 200)
            #expect(store.list(prefix: "/p/").items.count == 200)
        }
    }

    /// A watcher that never reads, with a small buffer, while many writers commit: it is ended with `.tooSlow`.
    /// Ending it ran the stream's termination handler under the state lock, which took that lock again
    /// ("Recursive call to lock Mutex"), killing the server.
    @Test(arguments: backends) func overflowingWatchersEndWithoutDeadlock(_ name: String) async throws {
        try await Backends.with(name) { store in
            let streams = try (0..<20).map { _ in try store.watch(prefix: "/o/", after: store.currentRevision, bufferLimit: 16) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<10 {
                    group.addTask {
                        for i in 0..<20 { _ = try await store.create(key: "/o/\(writer)-\(i)", attributes: .init(), encode: bytes("x")) }
                    }
                }
                try await group.waitForAll()
            }
            for stream in streams {
                var last: WatchStream.Element?
                for await element in stream { last = element }
                guard case .tooSlow = last else { Issue.record("an overflowed watcher should end with tooSlow"); return }
            }
            // A replay larger than the buffer is ended at once and never registered.
            var replayed = 0
            for await element in try store.watch(prefix: "/o/", after: store.currentRevision - 40, bufferLimit: 16) {
                if case .event = element { replayed += 1 }
            }
            #expect(replayed == 16)
        }
    }
}

@Suite struct SQLiteDurabilityTests {
    @Test func stateSurvivesReopen() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-reopen-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let indexer: SQLiteBackend.AttributeIndexer = { key, _ in ObjectAttributes(fields: ["key": key]) }
        var lastRevision: Int64 = 0
        do {
            let store = try SQLiteBackend(path: "\(dir)/state.db", indexer: indexer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                let a = try await store.create(key: "/k/a", attributes: .init(), encode: bytes("a"))
                _ = try await store.create(key: "/k/b", attributes: .init(), encode: bytes("b"))
                _ = try await store.update(key: "/k/a", expectedRevision: a.revision, attributes: .init(), encode: bytes("a2"))
                let c = try await store.delete(key: "/k/b", expectedRevision: nil, encode: bytes("b-gone"))
                lastRevision = c.revision
                store.shutdown()
                try await group.waitForAll()
            }
        }
        let reopened = try SQLiteBackend(path: "\(dir)/state.db", indexer: indexer)
        #expect(reopened.list(prefix: "/k/").items.map(\.key) == ["/k/a"])
        let value = String(decoding: reopened.get(key: "/k/a")?.value ?? [], as: UTF8.self)
        #expect(value.hasPrefix("a2@"))
        #expect(reopened.get(key: "/k/a")?.attributes.fields == ["key": "/k/a"])
        #expect(reopened.currentRevision == lastRevision)
        // Watching from before the restart is answered with "compacted" (410 upstream), not silence.
        #expect(throws: StorageError.self) { _ = try reopened.watch(prefix: "/k/", after: 1, bufferLimit: 10) }
    }
}

@Suite struct WatchProgressTests {
    @Test func progressNotificationsCarryTheCurrentRevision() async throws {
        let store = InMemoryBackend()
        _ = try await store.create(key: "/a", attributes: .init(), encode: bytes("a"))
        let stream = try store.watch(prefix: "/b/", after: store.currentRevision, bufferLimit: 10)
        defer { stream.cancel() }
        _ = try await store.create(key: "/x", attributes: .init(), encode: bytes("x"))
        store.notifyProgress()
        for await element in stream {
            guard case .progress(let revision) = element else { Issue.record("expected a progress notification first"); break }
            #expect(revision == store.currentRevision)
            break
        }
    }
}

/// A batch the writer applied but has not yet handed to watchers (the writer overlaps the two).
@Suite struct PipelinedDeliveryTests {
    static func seen(_ stream: WatchStream) async -> [String] {
        stream.cancel()
        var seen: [String] = []
        for await element in stream {
            switch element {
            case .event(let event): seen.append("event \(event.object.revision)")
            case .progress(let revision): seen.append("progress \(revision)")
            case .tooSlow: seen.append("too slow")
            }
        }
        return seen
    }

    @Test func progressNeverCoversAnEventNotYetDelivered() async throws {
        let state = MemoryState()
        let stream = try state.watch(prefix: "/p/", after: 0, bufferLimit: 10)
        let writes = state.prepare([.create(key: "/p/a", attributes: .init(), encode: bytes("a"))]).compactMap { try? $0.get() }
        let delivery = state.apply(writes)
        // Reads see the write at once; a bookmark at its revision now would let a reflector resume past it.
        #expect(state.get(key: "/p/a")?.revision == 1 && state.currentRevision == 1)
        state.notifyProgress()
        state.deliver(delivery)
        state.notifyProgress()
        #expect(await Self.seen(stream) == ["progress 0", "event 1", "progress 1"])
    }

    @Test func aWatcherOpenedBetweenApplyAndDeliveryGetsTheEventOnce() async throws {
        let state = MemoryState()
        let writes = state.prepare([.create(key: "/p/a", attributes: .init(), encode: bytes("a"))]).compactMap { try? $0.get() }
        let delivery = state.apply(writes)
        let stream = try state.watch(prefix: "/p/", after: 0, bufferLimit: 10)
        state.deliver(delivery)
        #expect(await Self.seen(stream) == ["event 1"])
    }
}

/// Selector-filtered watchers are handed only the events that concern them: matching now, or before.
@Suite struct WatchFilterTests {
    @Test func onlyEventsThatMatchNowOrBeforeAreQueued() async throws {
        let store = InMemoryBackend()
        let web = WatchFilter { $0.labels["app"] == "web" }
        let stream = try store.watch(prefix: "/f/", after: store.currentRevision, bufferLimit: 10, trigger: nil, filter: web)
        let a = try await store.create(key: "/f/a", attributes: .init(labels: ["app": "db"]), encode: bytes("a"))
        let b = try await store.update(key: "/f/a", expectedRevision: a.revision, attributes: .init(labels: ["app": "web"]), encode: bytes("a2"))
        let c = try await store.update(key: "/f/a", expectedRevision: b.revision, attributes: .init(labels: ["app": "db"]), encode: bytes("a3"))
        _ = try await store.update(key: "/f/a", expectedRevision: c.revision, attributes: .init(labels: ["app": "db"]), encode: bytes("a4"))
        let d = try await store.create(key: "/f/b", attributes: .init(labels: ["app": "web"]), encode: bytes("b"))
        let gone = try await store.delete(key: "/f/b", expectedRevision: nil, encode: bytes("b"))
        // Not the create as db nor the change from db to db; the change into web and out of it, and b's whole life.
        #expect(await PipelinedDeliveryTests.seen(stream) == [b, c, d, gone].map { "event \($0.revision)" })
        // A replay from history is filtered the same way.
        let replay = try store.watch(prefix: "/f/", after: a.revision - 1, bufferLimit: 10, trigger: nil, filter: web)
        #expect(await PipelinedDeliveryTests.seen(replay) == [b, c, d, gone].map { "event \($0.revision)" })
    }
}

/// The field index and watch triggers: what an agent's LIST and WATCH of its node's pods read.
@Suite struct FieldIndexTests {
    static func on(_ node: String) -> ObjectAttributes { ObjectAttributes(fields: ["spec.nodeName": node]) }

    @Test func listAndWatchByNode() async throws {
        let store = InMemoryBackend(indexedFields: ["spec.nodeName"])
        let a = try await store.create(key: "/pods/ns/a", attributes: Self.on("n1"), encode: bytes("a"))
        let b = try await store.create(key: "/pods/ns/b", attributes: Self.on("n2"), encode: bytes("b"))
        _ = try await store.create(key: "/pods/ns/c", attributes: Self.on("n1"), encode: bytes("c"))
        _ = try await store.create(key: "/other/x", attributes: Self.on("n1"), encode: bytes("x"))
        #expect(store.list(prefix: "/pods/", field: "spec.nodeName", value: "n1")?.items.map(\.key) == ["/pods/ns/a", "/pods/ns/c"])
        #expect(store.list(prefix: "/pods/", field: "metadata.name", value: "a") == nil)

        let stream = try store.watch(prefix: "/pods/", after: store.currentRevision, bufferLimit: 100,
                                     trigger: WatchTrigger(field: "spec.nodeName", value: "n1"), filter: nil)
        _ = try await store.update(key: "/pods/ns/b", expectedRevision: b.revision, attributes: Self.on("n1"), encode: bytes("b2"))  // moves in
        _ = try await store.update(key: "/pods/ns/a", expectedRevision: a.revision, attributes: Self.on("n2"), encode: bytes("a2"))  // moves out
        _ = try await store.create(key: "/pods/ns/d", attributes: Self.on("n3"), encode: bytes("d"))                                // not ours
        _ = try await store.create(key: "/other/y", attributes: Self.on("n1"), encode: bytes("y"))                                  // other prefix
        _ = try await store.delete(key: "/pods/ns/c", expectedRevision: nil, encode: bytes("c-gone"))
        var seen: [String] = []
        for await element in stream {
            guard case .event(let event) = element else { continue }
            seen.append(event.object.key)
            if seen.count == 3 { break }
        }
        stream.cancel()
        #expect(seen == ["/pods/ns/b", "/pods/ns/a", "/pods/ns/c"])
        #expect(store.list(prefix: "/pods/", field: "spec.nodeName", value: "n1")?.items.map(\.key) == ["/pods/ns/b"])
        #expect(store.list(prefix: "/pods/", field: "spec.nodeName", value: "n2")?.items.map(\.key) == ["/pods/ns/a"])
    }

    /// A value held by one key, then by several, then by one again and by none: each step lists exactly its keys.
    @Test func valuesGrowAndShrink() async throws {
        let store = InMemoryBackend(indexedFields: ["spec.nodeName"])
        func onN1() -> [String]? { store.list(prefix: "/pods/", field: "spec.nodeName", value: "n1")?.items.map(\.key) }
        var revisions: [String: Int64] = [:]
        for name in ["a", "b", "c"] {
            revisions[name] = try await store.create(key: "/pods/ns/\(name)", attributes: Self.on("n1"), encode: bytes(name)).revision
        }
        #expect(onN1() == ["/pods/ns/a", "/pods/ns/b", "/pods/ns/c"])
        _ = try await store.update(key: "/pods/ns/b", expectedRevision: revisions["b"], attributes: Self.on("n1"), encode: bytes("b2"))
        #expect(onN1() == ["/pods/ns/a", "/pods/ns/b", "/pods/ns/c"])
        _ = try await store.delete(key: "/pods/ns/a", expectedRevision: nil, encode: bytes("a-gone"))
        _ = try await store.delete(key: "/pods/ns/c", expectedRevision: nil, encode: bytes("c-gone"))
        #expect(onN1() == ["/pods/ns/b"])
        _ = try await store.create(key: "/pods/ns/d", attributes: Self.on("n1"), encode: bytes("d"))
        #expect(onN1() == ["/pods/ns/b", "/pods/ns/d"])
        _ = try await store.delete(key: "/pods/ns/b", expectedRevision: nil, encode: bytes("b-gone"))
        _ = try await store.delete(key: "/pods/ns/d", expectedRevision: nil, encode: bytes("d-gone"))
        #expect(onN1() == [])
    }

    @Test func indexIsRebuiltOnRecovery() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-index-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let indexer: SQLiteBackend.AttributeIndexer = { _, value in Self.on(String(decoding: value, as: UTF8.self).components(separatedBy: "@")[0]) }
        let store = try SQLiteBackend(path: "\(dir)/state.db", indexedFields: ["spec.nodeName"], indexer: indexer)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            _ = try await store.create(key: "/pods/a", attributes: Self.on("n1"), encode: bytes("n1"))
            _ = try await store.create(key: "/pods/b", attributes: Self.on("n2"), encode: bytes("n2"))
            store.shutdown()
            try await group.waitForAll()
        }
        let reopened = try SQLiteBackend(path: "\(dir)/state.db", indexedFields: ["spec.nodeName"], indexer: indexer)
        #expect(reopened.list(prefix: "/pods/", field: "spec.nodeName", value: "n2")?.items.map(\.key) == ["/pods/b"])
    }
}
