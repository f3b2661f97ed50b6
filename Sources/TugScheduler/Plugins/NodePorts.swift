/// Filters nodes where a host port the pod wants is taken (same protocol and port, on the same or a wildcard IP).
struct NodePorts: FilterPlugin {
    let name = "NodePorts"

    func filters(_ pod: PodInfo, state: CycleState) -> Bool { !pod.hostPorts.isEmpty }

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        for wanted in pod.hostPorts {
            for used in node.usedPorts.keys where used.proto == wanted.proto && used.port == wanted.port {
                if used.ip == wanted.ip || used.ip == "0.0.0.0" || wanted.ip == "0.0.0.0" {
                    return .unschedulable("node(s) didn't have free ports for the requested pod ports")
                }
            }
        }
        return .success
    }
}
