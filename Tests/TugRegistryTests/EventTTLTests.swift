import Foundation
import Testing
import TugAPI
import TugAPIMachinery
@testable import TugRegistry
import TugStorage
import TugTestSupport

@Suite struct EventExpiryTests {
    @Test func entriesComeDueInDeadlineOrderOnce() {
        var queue = EventExpiry<Int>()
        queue.reset([.init(key: "c", revision: 3, deadline: 30), .init(key: "a", revision: 1, deadline: 10), .init(key: "b", revision: 2, deadline: 20)])
        queue.append(key: "a", revision: 4, deadline: 40)
        #expect(queue.takeDue(at: 5).isEmpty)
        #expect(queue.takeDue(at: 20).map(\.key) == ["a", "b"])
        #expect(queue.takeDue(at: 20).isEmpty)
        #expect(queue.nextDeadline == 30)
        #expect(queue.takeDue(at: 100).map(\.revision) == [3, 4])
        #expect(queue.count == 0 && queue.nextDeadline == nil)
    }

    @Test func aLongQueueIsShiftedAsItDrains() {
        var queue = EventExpiry<Int>()
        for i in 0..<5_000 { queue.append(key: "e\(i)", revision: Int64(i), deadline: i) }
        var taken = 0
        for now in stride(from: 0, to: 5_000, by: 7) { taken += queue.takeDue(at: now).count }
        taken += queue.takeDue(at: 5_000).count
        #expect(taken == 5_000 && queue.count == 0)
    }
}

@Suite struct EventTTLTests {
    static func event(_ name: String, lastTimestamp: String? = nil) -> JSONValue {
        var event: JSONValue = ["metadata": ["name": .string(name)], "involvedObject": ["kind": "Pod", "name": "p", "namespace": "default"],
                                "reason": "Started", "message": "started", "type": "Normal"]
        if let lastTimestamp { event["lastTimestamp"] = .string(lastTimestamp) }
        return event
    }

    static func exists(_ store: ObjectStore, _ name: String) -> Bool {
        (try? store.get(try store.scheme.def("", "events"), namespace: "default", name: name)) != nil
    }

    @Test func eventsGoOneTTLAfterTheirLastWrite() async throws {
        let store = try await makeStore()
        let events = try store.scheme.def("", "events")
        // An Event stored long before the server started (written to the store as it was then): it expires at once;
        // one seen just now stays.
        var old = Self.event("old", lastTimestamp: "2020-01-01T00:00:00Z")
        old["metadata"]["namespace"] = "default"
        old["metadata"]["creationTimestamp"] = "2020-01-01T00:00:00Z"
        let oldBytes = JSONWriter.bytes(old)
        _ = try await store.backend.create(key: StorageKeys.key(events, namespace: "default", name: "old"), attributes: ObjectAttributes(),
                                           encode: { _ in oldBytes })
        _ = try await store.create(events, namespace: "default", object: Self.event("recent", lastTimestamp: KubeTime.format(Date())))
        let ttl = Duration.seconds(3)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await EventTTL(store: store, ttl: ttl).run() }
            try await eventually("the old Event to expire") { !Self.exists(store, "old") }
            #expect(Self.exists(store, "recent"))
            // Written while the server runs: one TTL from each write.
            let started = ContinuousClock.now
            var kept = try await store.create(events, namespace: "default", object: Self.event("kept"))
            _ = try await store.create(events, namespace: "default", object: Self.event("once"))
            // Rewritten before its TTL ran out, "kept" outlives "once".
            try await Task.sleep(for: .milliseconds(1500))
            kept["count"] = 2
            _ = try await store.update(events, namespace: "default", name: "kept", object: kept)
            try await eventually("the Event written once to expire") { !Self.exists(store, "once") }
            #expect(ContinuousClock.now - started >= ttl)
            #expect(Self.exists(store, "kept"))
            try await eventually("the rewritten and the recent Event to expire") { !Self.exists(store, "kept") && !Self.exists(store, "recent") }
            group.cancelAll()
        }
    }
}
