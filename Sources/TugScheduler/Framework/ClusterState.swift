import TugAPIMachinery

/// The scheduler's view of the cluster: nodes with their pods (bound and assumed), in a stable order, plus what
/// plugins look up across nodes (namespace labels, pods with required anti-affinity).
struct ClusterState: Sendable {
    private(set) var nodes: [NodeInfo] = []
    private var index: [String: Int] = [:]
    /// Pods by UID and the node they are on (bound, or assumed while their binding is in flight).
    private(set) var placed: [String: (pod: PodInfo, node: String)] = [:]
    private(set) var assumed: Set<String> = []
    /// UIDs of placed pods by node name (also for nodes not known yet).
    private var uidsByNode: [String: Set<String>] = [:]
    var namespaceLabels: [String: [String: String]] = [:]
    /// Pods nominated for a node by preemption, by node: the room freed for them is theirs, so pods of lower or
    /// equal priority see it as taken until the nominated pod is bound.
    private(set) var nominatedByNode: [String: [String: PodInfo]] = [:]
    private var nominatedNode: [String: String] = [:]
    /// UIDs of placed pods with required anti-affinity terms (checked against every incoming pod).
    private(set) var withRequiredAntiAffinity: Set<String> = []

    var nodeCount: Int { nodes.count }

    func node(_ name: String) -> NodeInfo? { index[name].map { nodes[$0] } }

    mutating func upsertNode(_ object: JSONValue) {
        if let i = index[object.name] {
            nodes[i].update(object)
        } else {
            var info = NodeInfo(object)
            for uid in uidsByNode[object.name] ?? [] { if let entry = placed[uid] { info.add(entry.pod) } }
            index[object.name] = nodes.count
            nodes.append(info)
        }
    }

    mutating func removeNode(_ name: String) {
        guard let i = index.removeValue(forKey: name) else { return }
        let last = nodes.count - 1
        if i != last {
            nodes.swapAt(i, last)
            index[nodes[i].name] = i
        }
        nodes.removeLast()
    }

    /// Places a pod on a node (a confirmed binding, or an assumed one with `assume`).
    mutating func place(_ pod: PodInfo, on node: String, assume: Bool = false) {
        remove(uid: pod.uid)
        nominate(pod, node: nil)
        placed[pod.uid] = (pod, node)
        uidsByNode[node, default: []].insert(pod.uid)
        if assume { assumed.insert(pod.uid) }
        if !pod.antiAffinity.isEmpty { withRequiredAntiAffinity.insert(pod.uid) }
        if let i = index[node] { nodes[i].add(pod) }
    }

    mutating func remove(uid: String) {
        if let node = nominatedNode.removeValue(forKey: uid) {
            nominatedByNode[node]?[uid] = nil
            if nominatedByNode[node]?.isEmpty == true { nominatedByNode[node] = nil }
        }
        guard let entry = placed.removeValue(forKey: uid) else { return }
        uidsByNode[entry.node]?.remove(uid)
        if uidsByNode[entry.node]?.isEmpty == true { uidsByNode[entry.node] = nil }
        assumed.remove(uid)
        withRequiredAntiAffinity.remove(uid)
        if let i = index[entry.node] { nodes[i].remove(entry.pod) }
    }

    mutating func nominate(_ pod: PodInfo, node: String?) {
        if let previous = nominatedNode.removeValue(forKey: pod.uid) {
            nominatedByNode[previous]?[pod.uid] = nil
            if nominatedByNode[previous]?.isEmpty == true { nominatedByNode[previous] = nil }
        }
        guard let node, !node.isEmpty else { return }
        nominatedNode[pod.uid] = node
        nominatedByNode[node, default: [:]][pod.uid] = pod
    }

    var hasNominations: Bool { !nominatedByNode.isEmpty }

    /// `node` as `pod` should see it: with the pods nominated there that are at least as important.
    func withNominated(_ node: NodeInfo, for pod: PodInfo) -> NodeInfo {
        guard let nominated = nominatedByNode[node.name] else { return node }
        var view = node
        for other in nominated.values where other.uid != pod.uid && other.priority >= pod.priority { view.add(other) }
        return view
    }

    func nomination(of uid: String) -> String? { nominatedNode[uid] }

    /// Marks pods whose deletion was just requested (preemption victims) before the watch says so.
    mutating func markDeleting(_ uids: [String]) {
        for uid in uids {
            guard var entry = placed[uid], !entry.pod.deleting else { continue }
            entry.pod = PodInfo(entry.pod.object, deleting: true)
            placed[uid] = entry
            if let i = index[entry.node] { nodes[i].pods[uid] = entry.pod }
        }
    }

    func isAssumed(_ uid: String) -> Bool { assumed.contains(uid) }
    func isPlaced(_ uid: String) -> Bool { placed[uid] != nil }

    /// Marks an assumed pod as confirmed by its watch event.
    mutating func confirm(_ uid: String) { assumed.remove(uid) }

    /// Pods that forbid others near them, with the node each is on.
    var podsWithRequiredAntiAffinity: [(pod: PodInfo, node: String)] {
        withRequiredAntiAffinity.compactMap { placed[$0] }
    }
}
