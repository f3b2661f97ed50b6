import TugAPIMachinery

/// CPU (millicores), memory (bytes) and pod slots: what a pod requests and a node offers.
struct Resources: Equatable, Sendable {
    var milliCPU: Int64 = 0
    var memory: Int64 = 0
    var pods: Int64 = 0

    static func + (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU.saturatingAdd(b.milliCPU), memory: a.memory.saturatingAdd(b.memory), pods: a.pods.saturatingAdd(b.pods))
    }

    static func - (a: Resources, b: Resources) -> Resources {
        Resources(milliCPU: a.milliCPU.saturatingSubtract(b.milliCPU), memory: a.memory.saturatingSubtract(b.memory), pods: a.pods.saturatingSubtract(b.pods))
    }

    /// What a pod asks for: the sum of its containers' requests (limits when no request), or its largest init
    /// container's when larger, plus the pod's overhead.
    static func requests(of pod: JSONValue) -> Resources {
        func of(_ container: JSONValue) -> (Int64, Int64) {
            let r = container["resources"]["requests"], l = container["resources"]["limits"]
            let cpu = (r["cpu"].stringValue ?? l["cpu"].stringValue).flatMap(Quantity.parse)?.milliUnits ?? 0
            let memory = (r["memory"].stringValue ?? l["memory"].stringValue).flatMap(Quantity.parse)?.value ?? 0
            return (cpu, memory)
        }
        var cpu: Int64 = 0, memory: Int64 = 0
        for container in pod["spec"]["containers"].arrayValue ?? [] {
            let (c, m) = of(container)
            cpu = cpu.saturatingAdd(c)
            memory = memory.saturatingAdd(m)
        }
        for container in pod["spec"]["initContainers"].arrayValue ?? [] {
            let (c, m) = of(container)
            cpu = max(cpu, c)
            memory = max(memory, m)
        }
        let overhead = pod["spec"]["overhead"]
        cpu = cpu.saturatingAdd(overhead["cpu"].stringValue.flatMap(Quantity.parse)?.milliUnits ?? 0)
        memory = memory.saturatingAdd(overhead["memory"].stringValue.flatMap(Quantity.parse)?.value ?? 0)
        return Resources(milliCPU: cpu, memory: memory, pods: 1)
    }

    static func allocatable(of node: JSONValue) -> Resources {
        let a = node["status"]["allocatable"]
        return Resources(milliCPU: a["cpu"].stringValue.flatMap(Quantity.parse).map { Quantity.saturating($0.milliValue) } ?? 0,
                         memory: a["memory"].stringValue.flatMap(Quantity.parse).map { Quantity.saturating($0.milliValue / 1000) } ?? 0,
                         pods: Int64(a["pods"].stringValue ?? "") ?? a["pods"].intValue ?? 110)
    }
}
