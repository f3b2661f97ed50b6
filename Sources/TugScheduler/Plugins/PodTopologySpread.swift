/// Spreads pods matching a constraint's selector evenly over the values of its topology key: a node is filtered
/// out when placing the pod there would make its domain exceed the least loaded one by more than `maxSkew`
/// (DoNotSchedule); ScheduleAnyway constraints only score (fewer matching pods in the domain is better).
struct PodTopologySpread: PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
    let name = "PodTopologySpread"
    let weight: Int64 = 2

    /// Per constraint: matching pods per topology value, among nodes eligible by the pod's node affinity.
    struct Counts: Sendable {
        var perConstraint: [[String: Int64]]
        var minimum: [Int64]
    }

    struct ScoreCounts: Sendable {
        var perConstraint: [[String: Int64]]
    }

    static func count(_ constraints: [PodInfo.SpreadConstraint], pod: PodInfo, nodes: [NodeInfo]) -> [[String: Int64]] {
        var counts = Array(repeating: [String: Int64](), count: constraints.count)
        for node in nodes where NodeAffinity.matches(pod, node) {
            for (i, constraint) in constraints.enumerated() {
                guard let value = node.labels[constraint.topologyKey] else { continue }
                let matching = node.pods.values.filter { $0.namespace == pod.namespace && !$0.terminal && constraint.selector.matches($0.label) }.count
                counts[i][value, default: 0] += Int64(matching)
            }
        }
        return counts
    }

    func hard(_ pod: PodInfo) -> [PodInfo.SpreadConstraint] { pod.spread.filter { $0.whenUnsatisfiable == "DoNotSchedule" } }

    func preFilter(_ state: inout CycleState, pod: PodInfo, cluster: ClusterState) {
        let constraints = hard(pod)
        guard !constraints.isEmpty else { return }
        let counts = Self.count(constraints, pod: pod, nodes: cluster.nodes)
        let minimum = zip(constraints, counts).map { constraint, perValue -> Int64 in
            // With fewer domains than minDomains the global minimum counts as 0.
            if let minDomains = constraint.minDomains, Int64(perValue.count) < minDomains { return 0 }
            return perValue.values.min() ?? 0
        }
        state[Counts.self] = Counts(perConstraint: counts, minimum: minimum)
    }

    func filters(_ pod: PodInfo, state: CycleState) -> Bool { state[Counts.self] != nil }

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        let constraints = hard(pod)
        guard !constraints.isEmpty, let counts = state[Counts.self] else { return .success }
        for (i, constraint) in constraints.enumerated() {
            guard let value = node.labels[constraint.topologyKey] else {
                return .unresolvable("node(s) didn't match pod topology spread constraints (missing required label)")
            }
            let selfMatch: Int64 = constraint.selector.matches(pod.label) ? 1 : 0
            if counts.perConstraint[i][value, default: 0] + selfMatch - counts.minimum[i] > constraint.maxSkew {
                return .unschedulable("node(s) didn't match pod topology spread constraints")
            }
        }
        return .success
    }

    func preScore(_ state: inout CycleState, pod: PodInfo, cluster: ClusterState) {
        let soft = pod.spread.filter { $0.whenUnsatisfiable == "ScheduleAnyway" }
        guard !soft.isEmpty else { return }
        state[ScoreCounts.self] = ScoreCounts(perConstraint: Self.count(soft, pod: pod, nodes: cluster.nodes))
    }

    func scores(_ pod: PodInfo, state: CycleState) -> Bool { state[ScoreCounts.self] != nil }

    func score(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        guard let counts = state[ScoreCounts.self] else { return 0 }
        let soft = pod.spread.filter { $0.whenUnsatisfiable == "ScheduleAnyway" }
        var total: Int64 = 0
        for (i, constraint) in soft.enumerated() {
            if let value = node.labels[constraint.topologyKey] { total += counts.perConstraint[i][value, default: 0] }
        }
        return total
    }

    func normalize(_ scores: inout [Int64]) { ScoreNormalization.byRange(&scores, reverse: true) }
}
