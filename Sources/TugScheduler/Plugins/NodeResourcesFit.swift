import TugAPIMachinery

/// Filters nodes without room for the pod's requests (cpu, memory, pod slots); scores by what is left
/// (LeastAllocated: emptier nodes first).
struct NodeResourcesFit: FilterPlugin, ScorePlugin {
    let name = "NodeResourcesFit"
    let weight: Int64 = 1

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        var reasons: [String] = []
        if node.requested.pods.saturatingAdd(1) > node.allocatable.pods { reasons.append("Too many pods") }
        if pod.requests.milliCPU > 0, node.requested.milliCPU.saturatingAdd(pod.requests.milliCPU) > node.allocatable.milliCPU { reasons.append("Insufficient cpu") }
        if pod.requests.memory > 0, node.requested.memory.saturatingAdd(pod.requests.memory) > node.allocatable.memory { reasons.append("Insufficient memory") }
        return reasons.isEmpty ? .success : PluginStatus(code: .unschedulable, reasons: reasons)
    }

    static func fraction(_ requested: Int64, _ capacity: Int64) -> Double {
        capacity > 0 ? min(1, Double(requested) / Double(capacity)) : 1
    }

    func score(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        // Pods that request nothing count as kube's defaults (100m, 200 MiB), so they still spread.
        let wanted = NodeInfo.nonZero(pod.requests), used = node.nonZeroRequested
        let cpu = 1 - Self.fraction(used.milliCPU.saturatingAdd(wanted.milliCPU), node.allocatable.milliCPU)
        let memory = 1 - Self.fraction(used.memory.saturatingAdd(wanted.memory), node.allocatable.memory)
        return Int64(((cpu + memory) / 2 * 100).rounded())
    }
}

/// Scores nodes whose cpu and memory would be used in similar proportions higher (kube's BalancedAllocation).
struct NodeResourcesBalancedAllocation: ScorePlugin {
    let name = "NodeResourcesBalancedAllocation"
    let weight: Int64 = 1

    func score(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        let wanted = NodeInfo.nonZero(pod.requests)
        let cpu = NodeResourcesFit.fraction(node.nonZeroRequested.milliCPU.saturatingAdd(wanted.milliCPU), node.allocatable.milliCPU)
        let memory = NodeResourcesFit.fraction(node.nonZeroRequested.memory.saturatingAdd(wanted.memory), node.allocatable.memory)
        let deviation = abs(cpu - memory) / 2
        return Int64(((1 - deviation) * 100).rounded())
    }
}
