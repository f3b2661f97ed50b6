/// PostFilter: when a pod fits nowhere, find the node where evicting the fewest, least important lower-priority
/// pods makes it fit (kube's DefaultPreemption, without PodDisruptionBudgets). Victims are chosen by removing every
/// lower-priority pod and then giving back, most important first, each one the pod still fits beside.
struct DefaultPreemption: SchedulerPlugin {
    let name = "DefaultPreemption"

    struct Candidate: Equatable {
        var node: String
        var victims: [PodInfo]

        static func == (a: Candidate, b: Candidate) -> Bool { a.node == b.node && a.victims.map(\.uid) == b.victims.map(\.uid) }
    }

    enum Result {
        case preempt(Candidate)
        /// No node can be freed up; the text is what follows "preemption: " in the pod's condition.
        case notHelpful(String)
    }

    func preempt(_ pod: PodInfo, cluster: ClusterState, failures: [String: PluginStatus], algorithm: SchedulingAlgorithm, state: CycleState) -> Result {
        guard pod.preemptionPolicy != "Never" else { return .notHelpful("not eligible due to preemptionPolicy=Never.") }
        // Victims chosen earlier are still terminating: wait for them rather than evict more.
        if let nominated = cluster.nomination(of: pod.uid) ?? (pod.nominatedNode.isEmpty ? nil : pod.nominatedNode),
           let node = cluster.node(nominated), node.pods.values.contains(where: { $0.deleting && $0.priority < pod.priority }) {
            return .notHelpful("not eligible due to a terminating pod on the nominated node.")
        }
        var reasons: [String: PluginStatus] = [:]
        var candidates: [Candidate] = []
        for node in cluster.nodes {
            if let failure = failures[node.name], failure.code == .unresolvable {
                reasons[node.name] = .unresolvable("Preemption is not helpful for scheduling")
                continue
            }
            let lower = node.pods.values.filter { $0.priority < pod.priority && !$0.deleting }
            guard !lower.isEmpty else {
                reasons[node.name] = .unschedulable("No preemption victims found for incoming pod")
                continue
            }
            var trial = node
            for victim in lower { trial.remove(victim) }
            guard algorithm.filter(state, pod: pod, node: trial).isSuccess else {
                reasons[node.name] = .unschedulable("No preemption victims found for incoming pod")
                continue
            }
            var victims: [PodInfo] = []
            for candidate in lower.sorted(by: { ($0.priority, $1.created) > ($1.priority, $0.created) }) {
                trial.add(candidate)
                if !algorithm.filter(state, pod: pod, node: trial).isSuccess {
                    trial.remove(candidate)
                    victims.append(candidate)
                }
            }
            candidates.append(Candidate(node: node.name, victims: victims))
        }
        guard let best = candidates.min(by: Self.better) else {
            return .notHelpful(SchedulingAlgorithm.summary(total: cluster.nodeCount, failures: reasons))
        }
        return .preempt(best)
    }

    /// Fewer important victims first: the lowest highest-victim priority, then the lowest sum, then the fewest.
    static func better(_ a: Candidate, _ b: Candidate) -> Bool {
        let aTop = a.victims.map(\.priority).max() ?? Int64.min, bTop = b.victims.map(\.priority).max() ?? Int64.min
        if aTop != bTop { return aTop < bTop }
        let aSum = a.victims.reduce(0) { $0 + $1.priority }, bSum = b.victims.reduce(0) { $0 + $1.priority }
        if aSum != bSum { return aSum < bSum }
        if a.victims.count != b.victims.count { return a.victims.count < b.victims.count }
        return a.node < b.node
    }
}
