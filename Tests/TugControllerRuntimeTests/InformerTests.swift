import Testing
import TugAPIMachinery
import TugClient
@testable import TugControllerRuntime

@Suite struct InformerTests {
    static func pod(_ name: String, rv: String, owner: String? = nil, node: String? = nil) -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string(name), "namespace": "ns", "resourceVersion": .string(rv)]]
        if let owner { pod["metadata"]["ownerReferences"] = [["uid": .string(owner), "controller": true]] }
        if let node { pod["spec"] = ["nodeName": .string(node)] }
        return pod
    }

    @Test func aRelistIsTurnedIntoAddsUpdatesAndDeletes() {
        let informer = Informer(resource: .pods)
        informer.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        let seen = EventLog()
        informer.addHandler { seen.append($0) }
        informer.apply(.replace([Self.pod("a", rv: "1", owner: "u1"), Self.pod("b", rv: "1")]))
        #expect(informer.hasSynced)
        #expect(seen.take().sorted() == ["added a", "added b"])
        informer.apply(.replace([Self.pod("a", rv: "2", owner: "u2"), Self.pod("c", rv: "1")]))
        #expect(seen.take().sorted() == ["added c", "deleted b", "updated a"])
        #expect(informer.store.byIndex(Indexes.ownerUID, "u1").isEmpty)
        #expect(informer.store.byIndex(Indexes.ownerUID, "u2").map(\.name) == ["a"])
        #expect(informer.store.list(namespace: "ns").count == 2)
    }

    @Test func watchEventsKeepIndexesCurrent() {
        let informer = Informer(resource: .pods)
        informer.apply(.replace([]))
        informer.apply(.added(Self.pod("a", rv: "1", node: "n1")))
        informer.store.addIndex(Indexes.nodeName, Indexes.byNodeName)  // late index: existing objects are indexed
        #expect(informer.store.byIndex(Indexes.nodeName, "n1").count == 1)
        informer.apply(.modified(Self.pod("a", rv: "2", node: "n2")))
        #expect(informer.store.byIndex(Indexes.nodeName, "n1").isEmpty)
        #expect(informer.store.byIndex(Indexes.nodeName, "n2").count == 1)
        informer.apply(.deleted(Self.pod("a", rv: "3", node: "n2")))
        #expect(informer.store.count == 0)
        #expect(informer.store.byIndex(Indexes.nodeName, "n2").isEmpty)
    }

    @Test func waitForSyncReturnsAfterTheFirstList() async {
        let informer = Informer(resource: .pods)
        async let synced: Void = informer.waitForSync()
        informer.apply(.replace([]))
        await synced
        #expect(informer.hasSynced)
    }
}

final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func append(_ event: InformerEvent) {
        let text = switch event {
        case .added(let o): "added \(o.name)"
        case .updated(_, let o): "updated \(o.name)"
        case .deleted(let o): "deleted \(o.name)"
        }
        events.withLock { $0.append(text) }
    }
    func take() -> [String] {
        events.withLock { events in
            defer { events = [] }
            return events
        }
    }
}

import Synchronization
