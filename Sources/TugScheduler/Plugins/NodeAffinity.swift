import TugAPI
import TugAPIMachinery

/// Filters nodes by the pod's nodeSelector and required node affinity; scores by the weights of the preferred
/// terms a node matches.
struct NodeAffinity: FilterPlugin, ScorePlugin {
    let name = "NodeAffinity"
    let weight: Int64 = 2

    static func matches(_ pod: PodInfo, _ node: NodeInfo) -> Bool {
        for (key, value) in pod.nodeSelector where node.labels[key] != value { return false }
        return pod.requiredNodeTerms.isEmpty || pod.requiredNodeTerms.contains { NodeSelection.matches(term: $0, node: node.object) }
    }

    func filters(_ pod: PodInfo, state: CycleState) -> Bool { !pod.nodeSelector.isEmpty || !pod.requiredNodeTerms.isEmpty }

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        Self.matches(pod, node) ? .success : .unresolvable("node(s) didn't match Pod's node affinity/selector")
    }

    func scores(_ pod: PodInfo, state: CycleState) -> Bool { !pod.preferredNodeTerms.isEmpty }

    func score(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        pod.preferredNodeTerms.reduce(0) { total, entry in
            NodeSelection.matches(term: entry.term, node: node.object) ? total + entry.weight : total
        }
    }

    func normalize(_ scores: inout [Int64]) { ScoreNormalization.byMaximum(&scores) }
}
