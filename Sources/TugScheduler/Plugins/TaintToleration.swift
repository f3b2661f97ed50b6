import TugAPI

/// Filters nodes with a NoSchedule or NoExecute taint the pod does not tolerate; scores nodes by how few
/// PreferNoSchedule taints the pod does not tolerate.
struct TaintToleration: FilterPlugin, ScorePlugin {
    let name = "TaintToleration"
    let weight: Int64 = 3

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        for taint in node.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !NodeSelection.tolerates(pod.tolerations, taint: taint.json) {
                return .unresolvable("node(s) had untolerated taint {\(taint.key): \(taint.value)}")
            }
        }
        return .success
    }

    func score(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        Int64(node.taints.filter { $0.effect == "PreferNoSchedule" && !NodeSelection.tolerates(pod.tolerations, taint: $0.json) }.count)
    }

    func normalize(_ scores: inout [Int64]) { ScoreNormalization.byMaximum(&scores, reverse: true) }
}
