import Foundation
import Testing
import TugAPIMachinery
@testable import TugControllers

@Suite struct DeploymentRolloutTests {
    static func deployment(replicas: Int64, surge: JSONValue = "25%", unavailable: JSONValue = "25%", type: String = "RollingUpdate") -> JSONValue {
        var d: JSONValue = ["metadata": ["name": "web", "generation": 2],
                            "spec": ["replicas": .int(replicas), "progressDeadlineSeconds": 600, "strategy": ["type": .string(type)]]]
        if type == "RollingUpdate" { d["spec"]["strategy"]["rollingUpdate"] = ["maxSurge": surge, "maxUnavailable": unavailable] }
        return d
    }

    static func rs(_ name: String, replicas: Int64, available: Int64) -> JSONValue {
        ["metadata": ["name": .string(name), "uid": .string(name)], "spec": ["replicas": .int(replicas)],
         "status": ["replicas": .int(replicas), "availableReplicas": .int(available)]]
    }

    @Test(arguments: [
        // replicas, surge, unavailable → (surge, unavailable)
        (Int64(10), JSONValue("25%"), JSONValue("25%"), 3, 2),
        (4, "25%", "25%", 1, 1),
        (3, "25%", "25%", 1, 0),
        (3, 0, 0, 0, 1),
        (5, 2, "50%", 2, 2),
        (1, "100%", 0, 1, 0),
    ])
    func boundsRoundSurgeUpAndUnavailabilityDown(replicas: Int64, surge: JSONValue, unavailable: JSONValue, wantSurge: Int, wantUnavailable: Int) {
        let bounds = DeploymentRollout.bounds(Self.deployment(replicas: replicas, surge: surge, unavailable: unavailable))
        #expect(bounds.surge == wantSurge)
        #expect(bounds.unavailable == wantUnavailable)
    }

    @Test func theNewReplicaSetGrowsWithinTheSurge() {
        let d = Self.deployment(replicas: 3)  // surge 1, unavailable 0
        let old = Self.rs("old", replicas: 3, available: 3)
        let new = Self.rs("new", replicas: 0, available: 0)
        #expect(DeploymentRollout.newReplicaSetReplicas(d, all: [old, new], new: new) == 1)
        let grown = Self.rs("new", replicas: 1, available: 0)
        #expect(DeploymentRollout.newReplicaSetReplicas(d, all: [old, grown], new: grown) == 1)  // 4 pods = max
        #expect(DeploymentRollout.newReplicaSetReplicas(d, all: [Self.rs("old", replicas: 2, available: 2), grown], new: grown) == 2)
    }

    @Test func oldPodsGoOnlyWhileEnoughStayAvailable() {
        let d = Self.deployment(replicas: 3)
        let old = Self.rs("old", replicas: 3, available: 3)
        let notReady = Self.rs("new", replicas: 1, available: 0)
        #expect(DeploymentRollout.oldScaleDownBudget(d, all: [old, notReady], new: notReady) == 0)
        let ready = Self.rs("new", replicas: 1, available: 1)
        #expect(DeploymentRollout.oldScaleDownBudget(d, all: [old, ready], new: ready) == 1)
        #expect(DeploymentRollout.scaleDownOld(d, all: [old, ready], old: [old]) == [0: 2])
    }

    @Test func unhealthyOldPodsAreRemovedFirst() {
        let crashing = Self.rs("a", replicas: 2, available: 0)
        let healthy = Self.rs("b", replicas: 2, available: 2)
        #expect(DeploymentRollout.cleanUpUnhealthy(old: [crashing, healthy], budget: 3) == [0: 0])
        #expect(DeploymentRollout.cleanUpUnhealthy(old: [crashing, healthy], budget: 1) == [0: 1])
    }

    @Test func scalingSharesTheChangeInProportion() {
        let d = Self.deployment(replicas: 10, surge: 0, unavailable: 1)
        let sizes = DeploymentRollout.proportionalSizes(d, active: [Self.rs("a", replicas: 4, available: 4), Self.rs("b", replicas: 1, available: 1)], newest: nil)
        #expect(sizes.values.reduce(0, +) == 10)
        #expect(sizes["a"] == 8 && sizes["b"] == 2)
        let one = DeploymentRollout.proportionalSizes(d, active: [Self.rs("a", replicas: 4, available: 4)], newest: nil)
        #expect(one == ["a": 10])
    }

    @Test func templatesCompareAsTypedObjectsWithoutTheHashLabel() {
        let d: JSONValue = ["spec": ["template": ["metadata": ["labels": ["app": "web"], "creationTimestamp": .null], "spec": ["containers": [["name": "c"]]]]]]
        let rs: JSONValue = ["spec": ["template": ["metadata": ["labels": ["app": "web", "pod-template-hash": "abc"]], "spec": ["containers": [["name": "c"]]]]]]
        #expect(DeploymentRollout.sameTemplate(rs, d))
        var changed = d
        changed["spec"]["template"]["spec"]["containers"] = [["name": "c", "image": "x"]]
        #expect(!DeploymentRollout.sameTemplate(rs, changed))
        let hash = DeploymentRollout.templateHash(d["spec"]["template"], collisionCount: nil)
        #expect(hash == DeploymentRollout.templateHash(d["spec"]["template"], collisionCount: nil))
        #expect(hash != DeploymentRollout.templateHash(d["spec"]["template"], collisionCount: 1))
        #expect(hash.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
    }

    @Test func revisionsMoveForwardAndKeepHistory() {
        let d: JSONValue = ["metadata": ["annotations": ["kubernetes.io/change-cause": "v2", "deployment.kubernetes.io/revision": "1"]]]
        let annotations = DeploymentRollout.replicaSetAnnotations(d, existing: ["deployment.kubernetes.io/revision": "1"], revision: 3)
        #expect(annotations["deployment.kubernetes.io/revision"] == "3")
        #expect(annotations["deployment.kubernetes.io/revision-history"] == "1")
        #expect(annotations["kubernetes.io/change-cause"] == "v2")
        let kept = DeploymentRollout.replicaSetAnnotations(d, existing: ["deployment.kubernetes.io/revision": "4"], revision: 3)
        #expect(kept["deployment.kubernetes.io/revision"] == "4")
    }

    @Test func progressConditionsFollowTheRollout() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var d = Self.deployment(replicas: 2)
        let new = Self.rs("web-1", replicas: 2, available: 1)
        var status = DeploymentStatus.calculate(d, all: [new], new: new, now: now)
        DeploymentStatus.progress(d, status: &status, new: new, now: now)
        #expect(DeploymentStatus.condition(status, "Progressing")?["reason"] == "ReplicaSetUpdated")
        #expect(DeploymentStatus.condition(status, "Available")?["reason"] == "MinimumReplicasUnavailable")  // 2 replicas, 25% → none may be unavailable
        d["status"] = status
        // No progress for longer than the deadline: timed out.
        var stalled = DeploymentStatus.calculate(d, all: [new], new: new, now: now.addingTimeInterval(601))
        DeploymentStatus.progress(d, status: &stalled, new: new, now: now.addingTimeInterval(601))
        #expect(DeploymentStatus.condition(stalled, "Progressing")?["reason"] == "ProgressDeadlineExceeded")
        #expect(DeploymentStatus.condition(stalled, "Progressing")?["status"] == "False")
        let done = Self.rs("web-1", replicas: 2, available: 2)
        var complete = DeploymentStatus.calculate(d, all: [done], new: done, now: now)
        DeploymentStatus.progress(d, status: &complete, new: done, now: now)
        #expect(DeploymentStatus.condition(complete, "Progressing")?["message"] == "ReplicaSet \"web-1\" has successfully progressed.")
    }
}
