import TugAPIMachinery

/// A node and the pods on it, as the scheduler tracks them: what it offers, what is requested, which host ports
/// are taken.
///
/// A value with its fields in one copy-on-write box: a scheduling cycle hands thousands of nodes to plugins, and
/// copying a dozen references per node (Swift copies array elements it passes through a protocol) was a tenth of
/// the server's CPU at 2,000 nodes. Now a copy is one reference.
struct NodeInfo: Sendable {
    struct Taint: Sendable, Equatable {
        var key: String
        var value: String
        var effect: String
        var json: JSONValue
    }

    struct Fields: Sendable {
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
    }

    /// Never mutated while shared: every setter below copies it first unless this value holds the only reference.
    private final class Box: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    private var fields: Fields {
        get { box.fields }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            yield &box.fields
        }
    }

    var name: String { box.fields.name }
    var labels: [String: String] { box.fields.labels }
    var taints: [Taint] { box.fields.taints }
    var allocatable: Resources { box.fields.allocatable }
    var unschedulable: Bool { box.fields.unschedulable }
    var ready: Bool { box.fields.ready }
    var requested: Resources { box.fields.requested }
    var nonZeroRequested: Resources { box.fields.nonZeroRequested }
    var usedPorts: [PodInfo.HostPort: Int] { box.fields.usedPorts }
    var object: JSONValue { box.fields.object }
    var pods: [String: PodInfo] {
        get { box.fields.pods }
        _modify { yield &fields.pods }
    }

    init(_ node: JSONValue) {
        box = Box(Self.fields(of: node))
    }

    static func fields(of node: JSONValue) -> Fields {
        Fields(name: node.name, labels: node.labels,
               taints: (node["spec"]["taints"].arrayValue ?? []).map {
                   Taint(key: $0["key"].stringValue ?? "", value: $0["value"].stringValue ?? "", effect: $0["effect"].stringValue ?? "", json: $0)
               },
               allocatable: Resources.allocatable(of: node),
               unschedulable: node["spec"]["unschedulable"].boolValue == true,
               ready: (node["status"]["conditions"].arrayValue ?? []).first { $0["type"] == "Ready" }?["status"] == "True",
               object: node)
    }

    /// Takes the node's new object, keeping its pods.
    mutating func update(_ node: JSONValue) {
        let old = box.fields
        var new = Self.fields(of: node)
        new.pods = old.pods
        new.requested = old.requested
        new.nonZeroRequested = old.nonZeroRequested
        new.usedPorts = old.usedPorts
        box = Box(new)
    }

    static func nonZero(_ r: Resources) -> Resources {
        Resources(milliCPU: r.milliCPU > 0 ? r.milliCPU : 100, memory: r.memory > 0 ? r.memory : 200 * 1024 * 1024, pods: r.pods)
    }

    mutating func add(_ pod: PodInfo) {
        if let existing = pods[pod.uid] { remove(existing) }
        fields.pods[pod.uid] = pod
        fields.requested = fields.requested + pod.requests
        fields.nonZeroRequested = fields.nonZeroRequested + NodeInfo.nonZero(pod.requests)
        for port in pod.hostPorts { fields.usedPorts[port, default: 0] += 1 }
    }

    mutating func remove(_ pod: PodInfo) {
        guard let existing = fields.pods.removeValue(forKey: pod.uid) else { return }
        fields.requested = fields.requested - existing.requests
        fields.nonZeroRequested = fields.nonZeroRequested - NodeInfo.nonZero(existing.requests)
        for port in existing.hostPorts {
            fields.usedPorts[port, default: 1] -= 1
            if fields.usedPorts[port] == 0 { fields.usedPorts[port] = nil }
        }
    }
}
