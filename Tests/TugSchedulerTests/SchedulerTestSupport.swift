import Foundation
import TugAPIMachinery
@testable import TugScheduler

/// Builders for table-driven cluster states.
enum Build {
    static func node(_ name: String, cpu: String = "4", memory: String = "8Gi", pods: String = "110", labels: [String: String] = [:],
                     taints: [JSONValue] = [], unschedulable: Bool = false) -> JSONValue {
        var labels = labels
        labels["kubernetes.io/hostname"] = name
        var node: JSONValue = ["metadata": ["name": .string(name), "labels": JSONValue(stringMap: labels)],
                               "spec": .emptyObject,
                               "status": ["allocatable": ["cpu": .string(cpu), "memory": .string(memory), "pods": .string(pods)],
                                          "conditions": [["type": "Ready", "status": "True"]]]]
        if !taints.isEmpty { node["spec"]["taints"] = .array(taints) }
        if unschedulable { node["spec"]["unschedulable"] = true }
        return node
    }

    static func pod(_ name: String, namespace: String = "default", cpu: String? = nil, memory: String? = nil, labels: [String: String] = [:],
                    node: String? = nil, priority: Int64 = 0, spec extra: JSONObject = [:]) -> JSONValue {
        var requests: JSONValue = .emptyObject
        if let cpu { requests["cpu"] = .string(cpu) }
        if let memory { requests["memory"] = .string(memory) }
        var spec: JSONValue = ["containers": [["name": "c", "image": "busybox", "resources": ["requests": requests]]], "priority": .int(priority)]
        if let node { spec["nodeName"] = .string(node) }
        for (key, value) in extra { spec[key] = value }
        return ["metadata": ["name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(namespace)-\(name)"),
                             "labels": JSONValue(stringMap: labels), "creationTimestamp": "2026-01-01T00:00:00Z"],
                "spec": spec, "status": ["phase": node == nil ? "Pending" : "Running"]]
    }

    static func cluster(nodes: [JSONValue], pods: [JSONValue] = []) -> ClusterState {
        var state = ClusterState()
        for node in nodes { state.upsertNode(node) }
        for pod in pods {
            let info = PodInfo(pod)
            state.place(info, on: info.nodeName)
        }
        return state
    }
}

struct FixedRandom: RandomNumberGenerator {
    var state: UInt64 = 42
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }
}

extension SchedulingAlgorithm {
    func place(_ pod: JSONValue, in cluster: ClusterState) -> (node: String?, message: String) {
        var random = FixedRandom()
        let outcome = schedule(PodInfo(pod), cluster: cluster, start: 0, random: &random)
        return (outcome.node, SchedulingAlgorithm.summary(total: cluster.nodeCount, failures: outcome.failures))
    }
}
