/// A pod that names its node fits only there.
struct NodeName: FilterPlugin {
    let name = "NodeName"

    func filters(_ pod: PodInfo, state: CycleState) -> Bool { !pod.nodeName.isEmpty }

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        pod.nodeName.isEmpty || pod.nodeName == node.name ? .success : .unresolvable("node(s) didn't match the requested node name")
    }
}
