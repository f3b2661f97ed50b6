import Foundation
import Testing
import TugAPIMachinery
@testable import TugScheduler

@Suite struct ScoreAndPreemptionTests {
    let algorithm = SchedulingAlgorithm()

    /// Schedules `pod` and, as the scheduler does for a pod that fits nowhere, asks preemption for a way.
    func preempt(_ pod: PodInfo, in cluster: ClusterState) -> (placed: String?, result: DefaultPreemption.Result) {
        var random = FixedRandom()
        let outcome = algorithm.schedule(pod, cluster: cluster, start: 0, random: &random)
        return (outcome.node, DefaultPreemption().preempt(pod, cluster: cluster, failures: outcome.failures, algorithm: algorithm, state: outcome.state))
    }

    @Test func leastAllocatedPrefersTheEmptierNode() {
        let cluster = Build.cluster(nodes: [Build.node("busy"), Build.node("idle")], pods: [Build.pod("x", cpu: "3", memory: "6Gi", node: "busy")])
        #expect(algorithm.place(Build.pod("p", cpu: "100m"), in: cluster).node == "idle")
    }

    @Test func preferredNodeAffinityWins() {
        let preferred: JSONValue = ["nodeAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [
            ["weight": 50, "preference": ["matchExpressions": [["key": "fast", "operator": "Exists"]]]]]]]
        let cluster = Build.cluster(nodes: [Build.node("a"), Build.node("b", labels: ["fast": "yes"]), Build.node("c")])
        #expect(algorithm.place(Build.pod("p", spec: ["affinity": preferred]), in: cluster).node == "b")
    }

    @Test func preferNoScheduleTaintsAreAvoided() {
        let cluster = Build.cluster(nodes: [Build.node("a", taints: [["key": "spot", "effect": "PreferNoSchedule"]]), Build.node("b")])
        #expect(algorithm.place(Build.pod("p"), in: cluster).node == "b")
    }

    @Test func preemptionEvictsTheFewestLeastImportantPods() {
        let cluster = Build.cluster(nodes: [Build.node("n", cpu: "2")],
                                    pods: [Build.pod("low-a", cpu: "800m", node: "n", priority: 10), Build.pod("low-b", cpu: "800m", node: "n", priority: 5)])
        let (placed, result) = preempt(PodInfo(Build.pod("vip", cpu: "1", priority: 1000)), in: cluster)
        #expect(placed == nil)
        guard case .preempt(let candidate) = result else {
            Issue.record("expected a preemption candidate")
            return
        }
        #expect(candidate.node == "n")
        #expect(candidate.victims.map(\.name) == ["low-b"])
    }

    /// Victims whose deletion was just asked for are marked in both of the scheduler's tables (the pods by UID and
    /// their node's): they are never chosen again, and the pod they make room for waits for them.
    @Test func victimsMarkedDeletingAreNotChosenAgain() {
        var cluster = Build.cluster(nodes: [Build.node("n", cpu: "2")],
                                    pods: [Build.pod("low-a", cpu: "800m", node: "n", priority: 10), Build.pod("low-b", cpu: "800m", node: "n", priority: 5)])
        let victim = PodInfo(Build.pod("low-b", cpu: "800m", node: "n", priority: 5))
        cluster.markDeleting([victim.uid])
        #expect(cluster.placed[victim.uid]?.pod.deleting == true)
        #expect(cluster.node("n")?.pods.values.filter(\.deleting).map(\.name) == ["low-b"])
        let vip = PodInfo(Build.pod("vip", cpu: "1", priority: 1000))
        guard case .preempt(let candidate) = preempt(vip, in: cluster).result else {
            Issue.record("expected a preemption candidate")
            return
        }
        #expect(candidate.victims.map(\.name) == ["low-a"])
        cluster.nominate(vip, node: "n")
        guard case .notHelpful(let why) = preempt(vip, in: cluster).result else {
            Issue.record("expected the nominated pod to wait for low-b")
            return
        }
        #expect(why == "not eligible due to a terminating pod on the nominated node.")
    }

    @Test func preemptionIsNotHelpfulAgainstTaintsOrEqualPriority() {
        let cluster = Build.cluster(nodes: [Build.node("n", cpu: "1")], pods: [Build.pod("peer", cpu: "1", node: "n", priority: 100)])
        guard case .notHelpful(let why) = preempt(PodInfo(Build.pod("p", cpu: "1", priority: 100)), in: cluster).result else {
            Issue.record("expected no candidate")
            return
        }
        #expect(why == "0/1 nodes are available: 1 No preemption victims found for incoming pod.")
    }

    @Test func nominatedPodsKeepTheirRoom() {
        var cluster = Build.cluster(nodes: [Build.node("n", cpu: "2")])
        cluster.nominate(PodInfo(Build.pod("vip", cpu: "1500m", priority: 1000)), node: "n")
        #expect(algorithm.place(Build.pod("low", cpu: "1", priority: 1), in: cluster).node == nil)
        #expect(algorithm.place(Build.pod("higher", cpu: "1", priority: 2000), in: cluster).node == "n")
    }
}
