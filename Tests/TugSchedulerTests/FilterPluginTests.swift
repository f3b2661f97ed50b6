import Foundation
import Testing
import TugAPIMachinery
@testable import TugScheduler

/// Each filter against small cluster states, with kube's wording for the reasons.
@Suite struct FilterPluginTests {
    let algorithm = SchedulingAlgorithm()

    @Test func resourcesFitCountsRequestsAndPodSlots() {
        let cluster = Build.cluster(nodes: [Build.node("small", cpu: "1"), Build.node("full", pods: "1")],
                                    pods: [Build.pod("there", node: "full")])
        #expect(algorithm.place(Build.pod("p", cpu: "500m"), in: cluster).node == "small")
        let result = algorithm.place(Build.pod("big", cpu: "2", memory: "16Gi"), in: cluster)
        #expect(result.node == nil)
        #expect(result.message == "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory, 1 Too many pods.")
    }

    @Test func nodeAffinityAndSelector() {
        let cluster = Build.cluster(nodes: [Build.node("a", labels: ["disk": "ssd"]), Build.node("b", labels: ["disk": "hdd"])])
        #expect(algorithm.place(Build.pod("p", spec: ["nodeSelector": ["disk": "hdd"]]), in: cluster).node == "b")
        let affinity: JSONValue = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
            ["matchExpressions": [["key": "disk", "operator": "In", "values": ["ssd"]]]]]]]]
        #expect(algorithm.place(Build.pod("q", spec: ["affinity": affinity]), in: cluster).node == "a")
        let nowhere = algorithm.place(Build.pod("r", spec: ["nodeSelector": ["disk": "nvme"]]), in: cluster)
        #expect(nowhere.message == "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.")
    }

    @Test func taintsNeedTolerations() {
        let taint: JSONValue = ["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]
        let cluster = Build.cluster(nodes: [Build.node("gpu", taints: [taint])])
        #expect(algorithm.place(Build.pod("p"), in: cluster).message == "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.")
        let tolerations: JSONValue = [["key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"]]
        #expect(algorithm.place(Build.pod("q", spec: ["tolerations": tolerations]), in: cluster).node == "gpu")
    }

    /// A filter with nothing to check for a pod is not run on any node (kube's PreFilter Skip); one with something is.
    @Test func filtersWithNothingToCheckAreSkipped() {
        struct Refusing: FilterPlugin {
            let name = "Refusing"
            let relevant: Bool
            func filters(_ pod: PodInfo, state: CycleState) -> Bool { relevant }
            func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus { .unschedulable("refused") }
        }
        let cluster = Build.cluster(nodes: [Build.node("a")])
        var skipping = SchedulingAlgorithm()
        skipping.profile.filters.append(Refusing(relevant: false))
        #expect(skipping.place(Build.pod("p"), in: cluster).node == "a")
        var checking = SchedulingAlgorithm()
        checking.profile.filters.append(Refusing(relevant: true))
        #expect(checking.place(Build.pod("p"), in: cluster).message == "0/1 nodes are available: 1 refused.")
    }

    @Test func cordonedNodesAreSkipped() {
        let cluster = Build.cluster(nodes: [Build.node("off", unschedulable: true), Build.node("on")])
        #expect(algorithm.place(Build.pod("p"), in: cluster).node == "on")
        let alone = Build.cluster(nodes: [Build.node("off", unschedulable: true)])
        #expect(algorithm.place(Build.pod("p"), in: alone).message == "0/1 nodes are available: 1 node(s) were unschedulable.")
    }

    @Test func hostPortsConflict() {
        func withPort(_ name: String, node: String? = nil) -> JSONValue {
            var pod = Build.pod(name, node: node)
            pod["spec"]["containers"] = [["name": "c", "ports": [["containerPort": 80, "hostPort": 8080, "protocol": "TCP"]]]]
            return pod
        }
        let cluster = Build.cluster(nodes: [Build.node("a"), Build.node("b")], pods: [withPort("taken", node: "a")])
        #expect(algorithm.place(withPort("p"), in: cluster).node == "b")
        let full = Build.cluster(nodes: [Build.node("a")], pods: [withPort("taken", node: "a")])
        #expect(algorithm.place(withPort("p"), in: full).message == "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")
    }

    @Test func requiredAntiAffinityKeepsReplicasApart() {
        let anti: JSONValue = ["podAntiAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            ["labelSelector": ["matchLabels": ["app": "db"]], "topologyKey": "kubernetes.io/hostname"]]]]
        let cluster = Build.cluster(nodes: [Build.node("a"), Build.node("b")],
                                    pods: [Build.pod("db-0", labels: ["app": "db"], node: "a", spec: ["affinity": anti])])
        #expect(algorithm.place(Build.pod("db-1", labels: ["app": "db"], spec: ["affinity": anti]), in: cluster).node == "b")
        // The existing pod's anti-affinity also keeps a matching pod without terms of its own away from "a".
        #expect(algorithm.place(Build.pod("plain", labels: ["app": "db"]), in: cluster).node == "b")
        let full = Build.cluster(nodes: [Build.node("a")], pods: [Build.pod("db-0", labels: ["app": "db"], node: "a", spec: ["affinity": anti])])
        #expect(algorithm.place(Build.pod("db-1", labels: ["app": "db"], spec: ["affinity": anti]), in: full).message
                == "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.")
    }

    @Test func requiredAffinityFollowsMatchingPods() {
        let affinity: JSONValue = ["podAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            ["labelSelector": ["matchLabels": ["app": "cache"]], "topologyKey": "zone"]]]]
        let cluster = Build.cluster(nodes: [Build.node("a", labels: ["zone": "z1"]), Build.node("b", labels: ["zone": "z2"])],
                                    pods: [Build.pod("cache", labels: ["app": "cache"], node: "b")])
        #expect(algorithm.place(Build.pod("web", spec: ["affinity": affinity]), in: cluster).node == "b")
    }

    @Test func topologySpreadLimitsSkew() {
        let spread: JSONValue = [["maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                                  "labelSelector": ["matchLabels": ["app": "web"]]]]
        let cluster = Build.cluster(nodes: [Build.node("a", labels: ["zone": "z1"]), Build.node("b", labels: ["zone": "z2"])],
                                    pods: [Build.pod("w0", labels: ["app": "web"], node: "a")])
        #expect(algorithm.place(Build.pod("w1", labels: ["app": "web"], spec: ["topologySpreadConstraints": spread]), in: cluster).node == "b")
    }

    @Test func feasibleNodesToFindFollowsKube() {
        #expect(SchedulingAlgorithm.feasibleNodesToFind(50) == 50)
        #expect(SchedulingAlgorithm.feasibleNodesToFind(1000) == 420)
        #expect(SchedulingAlgorithm.feasibleNodesToFind(5000) == 500)
    }
}
