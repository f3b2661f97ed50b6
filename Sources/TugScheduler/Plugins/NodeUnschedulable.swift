import TugAPI
import TugAPIMachinery

/// Filters out cordoned nodes (`spec.unschedulable`) unless the pod tolerates `node.kubernetes.io/unschedulable`.
struct NodeUnschedulable: FilterPlugin {
    let name = "NodeUnschedulable"
    static let taint: JSONValue = ["key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"]

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        guard node.unschedulable, !NodeSelection.tolerates(pod.tolerations, taint: Self.taint) else { return .success }
        return .unresolvable("node(s) were unschedulable")
    }
}
