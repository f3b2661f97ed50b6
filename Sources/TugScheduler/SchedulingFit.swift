import TugAPI
import TugAPIMachinery

/// The scheduler's filters and score, as pure functions over API objects: which nodes a pod may go to (Ready,
/// schedulable, nodeSelector and required node affinity terms on labels, tolerated taints, enough cpu, memory and
/// pod slots) and which of them is least allocated.
enum SchedulingFit {
    struct Requests: Equatable {
        var milliCPU: Double = 0
        var memory: Double = 0
        var pods: Int = 0
    }

    /// What a pod asks for: the sum of its containers' requests, or its largest init container's if larger.
    static func requests(of pod: JSONValue) -> Requests {
        func sum(_ containers: [JSONValue]) -> (Double, Double) {
            containers.reduce((0, 0)) { total, c in
                let r = c["resources"]["requests"], l = c["resources"]["limits"]
                let cpu = (r["cpu"].stringValue ?? l["cpu"].stringValue).flatMap(Quantity.parse)?.milliValue ?? 0
                let mem = (r["memory"].stringValue ?? l["memory"].stringValue).flatMap(Quantity.parse).map { $0.milliValue / 1000 } ?? 0
                return (total.0 + cpu, total.1 + mem)
            }
        }
        let main = sum(pod["spec"]["containers"].arrayValue ?? [])
        let inits = (pod["spec"]["initContainers"].arrayValue ?? []).map { sum([$0]) }
        let cpu = max(main.0, inits.map(\.0).max() ?? 0), mem = max(main.1, inits.map(\.1).max() ?? 0)
        return Requests(milliCPU: cpu, memory: mem, pods: 1)
    }

    static func allocatable(_ node: JSONValue) -> Requests {
        let a = node["status"]["allocatable"]
        return Requests(milliCPU: a["cpu"].stringValue.flatMap(Quantity.parse)?.milliValue ?? 0,
                        memory: a["memory"].stringValue.flatMap(Quantity.parse).map { $0.milliValue / 1000 } ?? 0,
                        pods: Int(a["pods"].stringValue ?? "") ?? 110)
    }

    /// Why `node` cannot take `pod` (nil when it can); the text is what `0/N nodes are available: …` lists.
    static func unfit(_ pod: JSONValue, node: JSONValue, used: Requests) -> String? {
        let ready = (node["status"]["conditions"].arrayValue ?? []).first { $0["type"].stringValue == "Ready" }?["status"].stringValue == "True"
        if !ready { return "node(s) were not ready" }
        if node["spec"]["unschedulable"].boolValue == true, !tolerates(pod, key: "node.kubernetes.io/unschedulable", value: nil, effect: "NoSchedule") {
            return "node(s) were unschedulable"
        }
        if !NodeSelection.matchesSelectorAndAffinity(pod, node: node) { return "node(s) didn't match Pod's node affinity/selector" }
        if let taint = NodeSelection.untoleratedTaint(pod, node: node) {
            return "node(s) had untolerated taint {\(taint["key"].stringValue ?? ""): \(taint["value"].stringValue ?? "")}"
        }
        let wanted = requests(of: pod), capacity = allocatable(node)
        if used.pods + 1 > capacity.pods { return "Too many pods" }
        if used.milliCPU + wanted.milliCPU > capacity.milliCPU, wanted.milliCPU > 0 { return "Insufficient cpu" }
        if used.memory + wanted.memory > capacity.memory, wanted.memory > 0 { return "Insufficient memory" }
        return nil
    }

    static func tolerates(_ pod: JSONValue, key: String, value: String?, effect: String) -> Bool {
        var taint: JSONValue = ["key": .string(key), "effect": .string(effect)]
        if let value { taint["value"] = .string(value) }
        return NodeSelection.tolerates(pod["spec"]["tolerations"].arrayValue ?? [], taint: taint)
    }

    /// Higher is better: the free share of cpu and memory after placing the pod (least-allocated scoring).
    static func score(_ pod: JSONValue, node: JSONValue, used: Requests) -> Double {
        let wanted = requests(of: pod), capacity = allocatable(node)
        let cpu = capacity.milliCPU > 0 ? 1 - (used.milliCPU + wanted.milliCPU) / capacity.milliCPU : 0
        let mem = capacity.memory > 0 ? 1 - (used.memory + wanted.memory) / capacity.memory : 0
        let pods = capacity.pods > 0 ? 1 - Double(used.pods + 1) / Double(capacity.pods) : 0
        return cpu + mem + pods
    }
}
