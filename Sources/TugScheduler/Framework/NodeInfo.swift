import TugAPIMachinery

/// A node and the pods on it, as the scheduler tracks them: what it offers, what is requested, which host ports
/// are taken.
struct NodeInfo: Sendable {
    struct Taint: Sendable, Equatable {
        var key: String
        var value: String
        var effect: String
        var json: JSONValue
    }

    var name: String
    var labels: [String: String]
    var taints: [Taint]
    var allocatable: Resources
    var unschedulable: Bool
    var ready: Bool
    var requested = Resources()
    /// Requests with kube's defaults (100m cpu, 200 MiB) for pods that ask for nothing: what scoring compares.
    var nonZeroRequested = Resources()
    var usedPorts: [PodInfo.HostPort: Int] = [:]
    var pods: [String: PodInfo] = [:]
    var object: JSONValue

    init(_ node: JSONValue) {
        object = node
        name = node.name
        labels = node.labels
        taints = (node["spec"]["taints"].arrayValue ?? []).map {
            Taint(key: $0["key"].stringValue ?? "", value: $0["value"].stringValue ?? "", effect: $0["effect"].stringValue ?? "", json: $0)
        }
        allocatable = Resources.allocatable(of: node)
        unschedulable = node["spec"]["unschedulable"].boolValue == true
        ready = (node["status"]["conditions"].arrayValue ?? []).first { $0["type"] == "Ready" }?["status"] == "True"
    }

    /// Takes the node's new object, keeping its pods.
    mutating func update(_ node: JSONValue) {
        let pods = self.pods, requested = self.requested, nonZero = nonZeroRequested, ports = usedPorts
        self = NodeInfo(node)
        self.pods = pods
        self.requested = requested
        nonZeroRequested = nonZero
        usedPorts = ports
    }

    static func nonZero(_ r: Resources) -> Resources {
        Resources(milliCPU: r.milliCPU > 0 ? r.milliCPU : 100, memory: r.memory > 0 ? r.memory : 200 * 1024 * 1024, pods: r.pods)
    }

    mutating func add(_ pod: PodInfo) {
        if let existing = pods[pod.uid] { remove(existing) }
        pods[pod.uid] = pod
        requested = requested + pod.requests
        nonZeroRequested = nonZeroRequested + NodeInfo.nonZero(pod.requests)
        for port in pod.hostPorts { usedPorts[port, default: 0] += 1 }
    }

    mutating func remove(_ pod: PodInfo) {
        guard let existing = pods.removeValue(forKey: pod.uid) else { return }
        requested = requested - existing.requests
        nonZeroRequested = nonZeroRequested - NodeInfo.nonZero(existing.requests)
        for port in existing.hostPorts {
            usedPorts[port, default: 1] -= 1
            if usedPorts[port] == 0 { usedPorts[port] = nil }
        }
    }
}
