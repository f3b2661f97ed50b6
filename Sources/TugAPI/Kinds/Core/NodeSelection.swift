public import TugAPIMachinery

/// Whether a pod may run on a node by its labels and taints (Kubernetes' component-helpers/scheduling): nodeSelector,
/// required node affinity terms, and tolerations. Shared by the scheduler and the DaemonSet controller.
public enum NodeSelection {
    /// nodeSelector and every required node affinity term agree with the node.
    public static func matchesSelectorAndAffinity(_ pod: JSONValue, node: JSONValue) -> Bool {
        let labels = node["metadata"]["labels"].stringMap
        for (key, value) in pod["spec"]["nodeSelector"].stringMap where labels[key] != value { return false }
        let terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].arrayValue ?? []
        return terms.isEmpty || terms.contains { matches(term: $0, node: node) }
    }

    /// One node selector term: all its label expressions and `metadata.name` field expressions hold.
    public static func matches(term: JSONValue, node: JSONValue) -> Bool {
        let labels = node["metadata"]["labels"].stringMap
        let expressions = term["matchExpressions"].arrayValue ?? []
        let fields = term["matchFields"].arrayValue ?? []
        if expressions.isEmpty && fields.isEmpty { return false }
        for expression in expressions {
            let values = (expression["values"].arrayValue ?? []).compactMap(\.stringValue)
            let value = labels[expression["key"].stringValue ?? ""]
            switch expression["operator"].stringValue ?? "" {
            case "In": if value.map({ !values.contains($0) }) ?? true { return false }
            case "NotIn": if let value, values.contains(value) { return false }
            case "Exists": if value == nil { return false }
            case "DoesNotExist": if value != nil { return false }
            case "Gt", "Lt":
                guard let have = value.flatMap({ Int64($0) }), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                if expression["operator"].stringValue == "Gt" ? have <= bound : have >= bound { return false }
            default: return false
            }
        }
        for field in fields {
            guard field["key"].stringValue == "metadata.name" else { return false }
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

    /// Whether `tolerations` tolerate a taint.
    public static func tolerates(_ tolerations: [JSONValue], taint: JSONValue) -> Bool {
        let key = taint["key"].stringValue ?? "", value = taint["value"].stringValue ?? "", effect = taint["effect"].stringValue ?? ""
        return tolerations.contains { toleration in
            let tEffect = toleration["effect"].stringValue ?? ""
            guard tEffect.isEmpty || tEffect == effect else { return false }
            let tKey = toleration["key"].stringValue ?? ""
            if toleration["operator"].stringValue == "Exists" { return tKey.isEmpty || tKey == key }
            return tKey == key && (toleration["value"].stringValue ?? "") == value
        }
    }

    /// The first NoSchedule or NoExecute taint of `node` that the pod does not tolerate.
    public static func untoleratedTaint(_ pod: JSONValue, node: JSONValue, effects: Set<String> = ["NoSchedule", "NoExecute"]) -> JSONValue? {
        let tolerations = pod["spec"]["tolerations"].arrayValue ?? []
        return (node["spec"]["taints"].arrayValue ?? []).first { taint in
            effects.contains(taint["effect"].stringValue ?? "") && !tolerates(tolerations, taint: taint)
        }
    }
}
