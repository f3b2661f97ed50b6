import TugAPIMachinery

/// The scheduler's filters and score, as pure functions over API objects: which nodes a pod may go to (Ready,
/// schedulable, nodeSelector and required node affinity terms on labels, tolerated taints, enough cpu, memory and
/// pod slots) and which of them is least allocated.
enum SchedulingFit {
    struct Requests: Equatable {
        var milliCPU: Double = 0
        var memory: Double = 0
        var pods: Int = 0
    }

    /// What a pod asks for: the sum of its containers' requests, or its largest init container's if larger.
    static func requests(of pod: JSONValue) -> Requests {
        func sum(_ containers: [JSONValue]) -> (Double, Double) {
            containers.reduce((0, 0)) { total, c in
                let r = c["resources"]["requests"], l = c["resources"]["limits"]
                let cpu = (r["cpu"].stringValue ?? l["cpu"].stringValue).flatMap(Quantity.parse)?.milliValue ?? 0
                let mem = (r["memory"].stringValue ?? l["memory"].stringValue).flatMap(Quantity.parse).map { $0.milliValue / 1000 } ?? 0
                return (total.0 + cpu, total.1 + mem)
            }
        }
        let main = sum(pod["spec"]["containers"].arrayValue ?? [])
        let inits = (pod["spec"]["initContainers"].arrayValue ?? []).map { sum([$0]) }
        let cpu = max(main.0, inits.map(\.0).max() ?? 0), mem = max(main.1, inits.map(\.1).max() ?? 0)
        return Requests(milliCPU: cpu, memory: mem, pods: 1)
    }

    static func allocatable(_ node: JSONValue) -> Requests {
        let a = node["status"]["allocatable"]
        return Requests(milliCPU: a["cpu"].stringValue.flatMap(Quantity.parse)?.milliValue ?? 0,
                        memory: a["memory"].stringValue.flatMap(Quantity.parse).map { $0.milliValue / 1000 } ?? 0,
                        pods: Int(a["pods"].stringValue ?? "") ?? 110)
    }

    /// Why `node` cannot take `pod` (nil when it can); the text is what `0/N nodes are available: …` lists.
    static func unfit(_ pod: JSONValue, node: JSONValue, used: Requests) -> String? {
        let ready = (node["status"]["conditions"].arrayValue ?? []).first { $0["type"].stringValue == "Ready" }?["status"].stringValue == "True"
        if !ready { return "node(s) were not ready" }
        if node["spec"]["unschedulable"].boolValue == true, !tolerates(pod, key: "node.kubernetes.io/unschedulable", value: nil, effect: "NoSchedule") {
            return "node(s) were unschedulable"
        }
        let labels = node["metadata"]["labels"].objectValue ?? [:]
        for (key, value) in pod["spec"]["nodeSelector"].objectValue ?? [:] where labels[key] != value {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        let terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].arrayValue ?? []
        if !terms.isEmpty, !terms.contains(where: { matches(term: $0, node: node) }) {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        for taint in node["spec"]["taints"].arrayValue ?? [] {
            let effect = taint["effect"].stringValue ?? ""
            guard effect == "NoSchedule" || effect == "NoExecute" else { continue }
            if !tolerates(pod, key: taint["key"].stringValue ?? "", value: taint["value"].stringValue, effect: effect) {
                return "node(s) had untolerated taint {\(taint["key"].stringValue ?? ""): \(taint["value"].stringValue ?? "")}"
            }
        }
        let wanted = requests(of: pod), capacity = allocatable(node)
        if used.pods + 1 > capacity.pods { return "Too many pods" }
        if used.milliCPU + wanted.milliCPU > capacity.milliCPU, wanted.milliCPU > 0 { return "Insufficient cpu" }
        if used.memory + wanted.memory > capacity.memory, wanted.memory > 0 { return "Insufficient memory" }
        return nil
    }

    static func matches(term: JSONValue, node: JSONValue) -> Bool {
        let labels = node["metadata"]["labels"].objectValue ?? [:]
        let expressions = term["matchExpressions"].arrayValue ?? []
        let fields = term["matchFields"].arrayValue ?? []
        if expressions.isEmpty && fields.isEmpty { return false }
        for expression in expressions {
            let key = expression["key"].stringValue ?? ""
            let values = (expression["values"].arrayValue ?? []).compactMap(\.stringValue)
            let value = labels[key]?.stringValue
            switch expression["operator"].stringValue ?? "" {
            case "In": if value == nil || !values.contains(value!) { return false }
            case "NotIn": if let value, values.contains(value) { return false }
            case "Exists": if value == nil { return false }
            case "DoesNotExist": if value != nil { return false }
            case "Gt": if !(Int(value ?? "").map { v in values.first.flatMap { Int($0) }.map { v > $0 } ?? false } ?? false) { return false }
            case "Lt": if !(Int(value ?? "").map { v in values.first.flatMap { Int($0) }.map { v < $0 } ?? false } ?? false) { return false }
            default: return false
            }
        }
        for field in fields where field["key"].stringValue == "metadata.name" {
            let values = (field["values"].arrayValue ?? []).compactMap(\.stringValue)
            let name = node["metadata"]["name"].stringValue ?? ""
            switch field["operator"].stringValue ?? "" {
            case "In": if !values.contains(name) { return false }
            case "NotIn": if values.contains(name) { return false }
            default: return false
            }
        }
        return true
    }

    static func tolerates(_ pod: JSONValue, key: String, value: String?, effect: String) -> Bool {
        (pod["spec"]["tolerations"].arrayValue ?? []).contains { toleration in
            let tEffect = toleration["effect"].stringValue ?? ""
            guard tEffect.isEmpty || tEffect == effect else { return false }
            let tKey = toleration["key"].stringValue ?? ""
            if toleration["operator"].stringValue == "Exists" { return tKey.isEmpty || tKey == key }
            return tKey == key && (toleration["value"].stringValue ?? "") == (value ?? "")
        }
    }

    /// Higher is better: the free share of cpu and memory after placing the pod (least-allocated scoring).
    static func score(_ pod: JSONValue, node: JSONValue, used: Requests) -> Double {
        let wanted = requests(of: pod), capacity = allocatable(node)
        let cpu = capacity.milliCPU > 0 ? 1 - (used.milliCPU + wanted.milliCPU) / capacity.milliCPU : 0
        let mem = capacity.memory > 0 ? 1 - (used.memory + wanted.memory) / capacity.memory : 0
        let pods = capacity.pods > 0 ? 1 - Double(used.pods + 1) / Double(capacity.pods) : 0
        return cpu + mem + pods
    }
}
