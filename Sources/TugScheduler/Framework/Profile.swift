/// The plugins a scheduling cycle runs, in order, with their score weights (kube-scheduler's default profile).
struct Profile: Sendable {
    var preFilters: [any PreFilterPlugin]
    var filters: [any FilterPlugin]
    var preScores: [any PreScorePlugin]
    var scorers: [any ScorePlugin]

    static let `default`: Profile = {
        let spread = PodTopologySpread(), affinity = InterPodAffinity(), taints = TaintToleration(), nodeAffinity = NodeAffinity()
        let fit = NodeResourcesFit()
        return Profile(
            preFilters: [spread, affinity],
            filters: [NodeUnschedulable(), NodeName(), taints, nodeAffinity, NodePorts(), fit, spread, affinity],
            preScores: [spread, affinity],
            scorers: [fit, NodeResourcesBalancedAllocation(), nodeAffinity, taints, affinity, spread])
    }()
}
