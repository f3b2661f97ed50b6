public import TugAPIMachinery

/// What an object counts against a ResourceQuota, as upstream's quota evaluators: pods (their number and the
/// requests and limits of their containers, init containers as upstream's maximum), services (and their node
/// ports and load balancers), claims (and their storage, per class), and `count/<resource>[.<group>]` of anything.
public enum QuotaUsage {
    /// The resource a quota key counts (`requests.cpu` → pods, `count/deployments.apps` → deployments in apps).
    public static func resource(forKey key: String) -> GroupResource? {
        if key.hasPrefix("count/") {
            let name = key.dropFirst("count/".count)
            guard let dot = name.firstIndex(of: ".") else { return GroupResource(group: "", resource: String(name)) }
            return GroupResource(group: String(name[name.index(after: dot)...]), resource: String(name[..<dot]))
        }
        if key == "pods" || key == "cpu" || key == "memory" || key.hasPrefix("requests.") && key != "requests.storage" || key.hasPrefix("limits.") {
            return GroupResource(group: "", resource: "pods")
        }
        if key.hasPrefix("services") { return GroupResource(group: "", resource: "services") }
        if key == "persistentvolumeclaims" || key == "requests.storage" || key.contains(".storageclass.storage.k8s.io/") {
            return GroupResource(group: "", resource: "persistentvolumeclaims")
        }
        if ["configmaps", "secrets", "replicationcontrollers", "resourcequotas"].contains(key) { return GroupResource(group: "", resource: key) }
        return nil
    }

    /// Whether sums of `key` print in binary form (memory and storage, as their quantities usually are).
    static func binary(_ key: String) -> Bool { key.contains("memory") || key.contains("storage") }

    /// Everything `object` (of `resource`) counts, in milli-units.
    public static func usage(of object: JSONValue, resource: GroupResource) -> [String: Double] {
        let countKey = resource.group.isEmpty ? "count/\(resource.resource)" : "count/\(resource.resource).\(resource.group)"
        var usage: [String: Double] = [countKey: 1000]
        switch (resource.group, resource.resource) {
        case ("", "pods"):
            let phase = object["status"]["phase"].stringValue
            guard phase != "Succeeded", phase != "Failed" else { return [:] }
            usage["pods"] = 1000
            let totals = podTotalsMilli(object["spec"])
            for (name, value) in totals.requests {
                usage["requests.\(name)"] = value
                if name == "cpu" || name == "memory" { usage[name] = value }
            }
            for (name, value) in totals.limits { usage["limits.\(name)"] = value }
        case ("", "services"):
            usage["services"] = 1000
            let type = object["spec"]["type"].stringValue ?? "ClusterIP"
            if type == "NodePort" || type == "LoadBalancer" {
                usage["services.nodeports"] = Double((object["spec"]["ports"].arrayValue ?? []).count * 1000)
            }
            if type == "LoadBalancer" { usage["services.loadbalancers"] = 1000 }
        case ("", "persistentvolumeclaims"):
            usage["persistentvolumeclaims"] = 1000
            let storage = object["spec"]["resources"]["requests"]["storage"].stringValue.flatMap(Quantity.parse)?.milliValue ?? 0
            usage["requests.storage"] = storage
            if let storageClass = object["spec"]["storageClassName"].stringValue {
                usage["\(storageClass).storageclass.storage.k8s.io/requests.storage"] = storage
                usage["\(storageClass).storageclass.storage.k8s.io/persistentvolumeclaims"] = 1000
            }
        case ("", let name) where ["configmaps", "secrets", "replicationcontrollers", "resourcequotas"].contains(name):
            usage[name] = 1000
        default:
            break
        }
        return usage
    }

    /// A pod's effective requests and limits: the sum over its containers or the largest init container, whichever
    /// is more, per resource (upstream's `PodRequests`/`PodLimits`), in milli-units.
    static func podTotalsMilli(_ spec: JSONValue) -> (requests: [String: Double], limits: [String: Double]) {
        func sum(_ field: String) -> [String: Double] {
            var total: [String: Double] = [:]
            for c in spec["containers"].arrayValue ?? [] {
                for (key, text) in c["resources"][field].stringMap { total[key, default: 0] += Quantity.parse(text)?.milliValue ?? 0 }
            }
            for c in spec["initContainers"].arrayValue ?? [] {
                for (key, text) in c["resources"][field].stringMap { total[key] = max(total[key] ?? 0, Quantity.parse(text)?.milliValue ?? 0) }
            }
            for (key, text) in spec["overhead"].stringMap { total[key, default: 0] += Quantity.parse(text)?.milliValue ?? 0 }
            return total
        }
        return (sum("requests"), sum("limits"))
    }

    /// The pod totals as quantity strings (for LimitRange's Pod bounds).
    static func podTotals(_ spec: JSONValue) -> (requests: [String: String], limits: [String: String]) {
        let totals = podTotalsMilli(spec)
        func format(_ map: [String: Double]) -> [String: String] {
            map.reduce(into: [:]) { $0[$1.key] = Quantity(milli: $1.value).formatted(binary: binary($1.key)) }
        }
        return (format(totals.requests), format(totals.limits))
    }

    /// Whether a quota's scopes (and scope selector) select the object: scopes only ever select pods.
    static func selects(_ quota: JSONValue, _ object: JSONValue, resource: GroupResource) -> Bool {
        var scopes = (quota["spec"]["scopes"].arrayValue ?? []).compactMap(\.stringValue).map { ($0, "Exists", [String]()) }
        for requirement in quota["spec"]["scopeSelector"]["matchExpressions"].arrayValue ?? [] {
            scopes.append((requirement["scopeName"].stringValue ?? "", requirement["operator"].stringValue ?? "",
                           (requirement["values"].arrayValue ?? []).compactMap(\.stringValue)))
        }
        guard !scopes.isEmpty else { return true }
        guard resource == GroupResource(group: "", resource: "pods") else { return false }
        let spec = object["spec"]
        let bestEffort = ["containers", "initContainers"].flatMap { spec[$0].arrayValue ?? [] }.allSatisfy {
            $0["resources"]["requests"].stringMap.isEmpty && $0["resources"]["limits"].stringMap.isEmpty
        }
        let terminating = (spec["activeDeadlineSeconds"].intValue ?? -1) >= 0
        return scopes.allSatisfy { name, op, values in
            switch name {
            case "BestEffort": return bestEffort
            case "NotBestEffort": return !bestEffort
            case "Terminating": return terminating
            case "NotTerminating": return !terminating
            case "PriorityClass":
                let priorityClass = spec["priorityClassName"].stringValue
                switch op {
                case "In": return priorityClass.map(values.contains) ?? false
                case "NotIn": return !(priorityClass.map(values.contains) ?? false)
                case "Exists": return priorityClass != nil
                case "DoesNotExist": return priorityClass == nil
                default: return false
                }
            default: return false
            }
        }
    }
}
