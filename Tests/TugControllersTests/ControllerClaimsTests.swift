import Testing
import TugAPIMachinery
@testable import TugControllerRuntime
import TugControllers

/// A claim pass reads only what its owner could keep, adopt or release, and still sees every such object.
@Suite struct ControllerClaimsTests {
    static func pod(_ name: String, namespace: String = "web", owner: String? = nil, controller: Bool = true) -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string(name), "namespace": .string(namespace), "labels": ["app": "web"]]]
        if let owner {
            pod["metadata"]["ownerReferences"] = [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string(owner), "uid": .string(owner),
                                                    "controller": .bool(controller)]]
        }
        return pod
    }

    @Test func candidatesAreTheOwnersObjectsAndTheOrphansOfItsNamespace() throws {
        let store = IndexedStore()
        ControllerClaims.addIndexes(to: store)
        for pod in [Self.pod("mine", owner: "rs-a"), Self.pod("theirs", owner: "rs-b"), Self.pod("orphan"),
                    Self.pod("weak", owner: "rs-a", controller: false), Self.pod("elsewhere", namespace: "other"),
                    Self.pod("mine-elsewhere", namespace: "other", owner: "rs-a")] {
            _ = store.upsert(pod)
        }
        let owner: JSONValue = ["metadata": ["name": "rs-a", "namespace": "web", "uid": "rs-a"]]
        let claims = ControllerClaims(owner: owner, resource: .replicaSets, selector: try LabelSelector.parse("app=web"))
        let names = Set(claims.candidates(in: store).map(\.name))
        // "weak" references rs-a without being controlled: it is an orphan, listed once.
        #expect(names == ["mine", "orphan", "weak"])
        #expect(claims.candidates(in: store).count == 3)
        // Adopting an orphan moves it from the orphan index to the owner's.
        _ = store.upsert(Self.pod("orphan", owner: "rs-a"))
        #expect(Set(claims.candidates(in: store).map(\.name)) == ["mine", "orphan", "weak"])
        _ = store.upsert(Self.pod("orphan", owner: "rs-b"))
        #expect(Set(claims.candidates(in: store).map(\.name)) == ["mine", "weak"])
    }
}
