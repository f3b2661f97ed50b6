/// One scheduling cycle's search (kube-scheduler's schedulePod): run the filters over enough nodes, score the
/// feasible ones, pick the best. Pure over a `ClusterState`, so it is tested on table-driven clusters.
struct SchedulingAlgorithm: Sendable {
    var profile = Profile.default

    struct Outcome {
        /// The chosen node, if any fits.
        var node: String?
        /// Why each node that was tried did not fit.
        var failures: [String: PluginStatus]
        var state: CycleState
        /// How many nodes were looked at (the next cycle starts after them).
        var examined: Int
    }

    /// How many feasible nodes are enough at this cluster size: all below 100 nodes, then a share falling from 50 %
    /// to 5 % (kube's adaptive percentageOfNodesToScore), at least 100.
    static func feasibleNodesToFind(_ total: Int) -> Int {
        if total < 100 { return total }
        let percent = max(5, 50 - total / 125)
        return max(100, total * percent / 100)
    }

    /// Runs the filters on one node: those given (a cycle's active ones), or all of the profile's.
    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo, using filters: [any FilterPlugin]? = nil) -> PluginStatus {
        for plugin in filters ?? profile.filters {
            let status = plugin.filter(state, pod: pod, node: node)
            if !status.isSuccess { return status }
        }
        return .success
    }

    func schedule(_ pod: PodInfo, cluster: ClusterState, start: Int, random: inout some RandomNumberGenerator) -> Outcome {
        var state = CycleState()
        for plugin in profile.preFilters { plugin.preFilter(&state, pod: pod, cluster: cluster) }
        var failures: [String: PluginStatus] = [:]
        // A node this pod was nominated for by preemption is tried first.
        if !pod.nominatedNode.isEmpty, let nominated = cluster.node(pod.nominatedNode),
           filter(state, pod: pod, node: cluster.withNominated(nominated, for: pod)).isSuccess {
            return Outcome(node: nominated.name, failures: [:], state: state, examined: 0)
        }
        let total = cluster.nodeCount
        guard total > 0 else { return Outcome(node: nil, failures: [:], state: state, examined: 0) }
        let wanted = Self.feasibleNodesToFind(total)
        // Only the plugins with something to check for this pod run on each node (a plain pod: 3 of 8).
        let filters = profile.filters.filter { $0.filters(pod, state: state) }
        // Nodes are read by index; handing one to a plugin copies one reference (`NodeInfo` boxes its fields).
        var feasible: [Int] = []
        var examined = 0
        let nodes = cluster.nodes
        let nominations = cluster.hasNominations
        while examined < total, feasible.count < wanted {
            let index = (start + examined) % total
            examined += 1
            let status = nominations ? filter(state, pod: pod, node: cluster.withNominated(nodes[index], for: pod), using: filters)
                                     : filter(state, pod: pod, node: nodes[index], using: filters)
            if status.isSuccess { feasible.append(index) } else { failures[nodes[index].name] = status }
        }
        guard !feasible.isEmpty else { return Outcome(node: nil, failures: failures, state: state, examined: examined) }
        if feasible.count == 1 { return Outcome(node: nodes[feasible[0]].name, failures: failures, state: state, examined: examined) }
        for plugin in profile.preScores { plugin.preScore(&state, pod: pod, cluster: cluster) }
        var totals = Array(repeating: Int64(0), count: feasible.count)
        var scores = Array(repeating: Int64(0), count: feasible.count)
        for plugin in profile.scorers where plugin.scores(pod, state: state) {
            for (i, index) in feasible.enumerated() { scores[i] = plugin.score(state, pod: pod, node: nodes[index]) }
            plugin.normalize(&scores)
            for i in totals.indices { totals[i] += scores[i] * plugin.weight }
        }
        // The best score; ties are broken at random (reservoir sampling), as kube's selectHost does.
        var best = 0, ties = 1
        for i in 1..<totals.count {
            if totals[i] > totals[best] {
                best = i
                ties = 1
            } else if totals[i] == totals[best] {
                ties += 1
                if Int.random(in: 0..<ties, using: &random) == 0 { best = i }
            }
        }
        return Outcome(node: nodes[feasible[best]].name, failures: failures, state: state, examined: examined)
    }

    /// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
    static func summary(total: Int, failures: [String: PluginStatus]) -> String {
        var histogram: [String: Int] = [:]
        for status in failures.values { for reason in status.reasons { histogram[reason, default: 0] += 1 } }
        let detail = histogram.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return "0/\(total) nodes are available" + (detail.isEmpty ? "." : ": \(detail).")
    }
}
