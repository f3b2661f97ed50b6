public import TugAPIMachinery

/// Pods made from a controller's template, as kube-controller-manager's PodControl makes them.
public enum PodTemplates {
    /// A pod for `template`, owned by `owner`: the template's labels, annotations and spec, `generateName` from
    /// `prefix` (or `name` when given, for StatefulSets).
    public static func pod(from template: JSONValue, owner ownerReference: JSONValue, prefix: String, name: String? = nil,
                           extraLabels: [String: String] = [:]) -> JSONValue {
        var metadata: JSONValue = .emptyObject
        if let name { metadata["name"] = .string(name) } else { metadata["generateName"] = .string(generateNamePrefix(prefix)) }
        var labels = template["metadata"]["labels"].stringMap
        labels.merge(extraLabels) { _, new in new }
        if !labels.isEmpty { metadata["labels"] = JSONValue(stringMap: labels) }
        if !template["metadata"]["annotations"].isNull { metadata["annotations"] = template["metadata"]["annotations"] }
        if !template["metadata"]["finalizers"].isNull { metadata["finalizers"] = template["metadata"]["finalizers"] }
        metadata["ownerReferences"] = [ownerReference]
        return ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]]
    }

    /// `name-`, shortened so the generated name stays within 63 characters (as names.SimpleNameGenerator does).
    static func generateNamePrefix(_ prefix: String) -> String {
        let base = prefix + "-"
        return base.count > 58 ? String(base.prefix(58)) : base
    }
}
