import TugAPI
public import TugAPIMachinery

/// Which nodes a DaemonSet covers and the pod it puts on each: the template plus the tolerations every daemon pod
/// gets (so it stays through node trouble) and a required affinity to exactly its node, which the default
/// scheduler then binds (Kubernetes' ScheduleDaemonSetPods behaviour).
public enum DaemonSetPods {
    static let automaticTolerations: [JSONValue] = [
        ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"],
    ]
    static let hostNetworkToleration: JSONValue = ["key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"]

    /// The template with the daemon tolerations added (those it lacks).
    public static func template(_ set: JSONValue) -> JSONValue {
        var template = set["spec"]["template"]
        var tolerations = template["spec"]["tolerations"].arrayValue ?? []
        var automatic = automaticTolerations
        if template["spec"]["hostNetwork"].boolValue == true { automatic.append(hostNetworkToleration) }
        for toleration in automatic where !tolerations.contains(where: { $0["key"] == toleration["key"] && $0["effect"] == toleration["effect"] }) {
            tolerations.append(toleration)
        }
        template["spec"]["tolerations"] = .array(tolerations)
        return template
    }

    /// Whether a daemon pod belongs on `node`: selector, affinity and taints (NoSchedule and NoExecute) allow it.
    public static func shouldRun(_ set: JSONValue, on node: JSONValue) -> Bool {
        let pod = template(set)
        return NodeSelection.matchesSelectorAndAffinity(pod, node: node) && NodeSelection.untoleratedTaint(pod, node: node) == nil
    }

    /// Whether a daemon pod already on `node` may stay: NoSchedule taints keep new pods away but, as in
    /// Kubernetes, only NoExecute taints (or a selector that no longer matches) remove a running one.
    public static func shouldContinueRunning(_ set: JSONValue, on node: JSONValue) -> Bool {
        let pod = template(set)
        return NodeSelection.matchesSelectorAndAffinity(pod, node: node) && NodeSelection.untoleratedTaint(pod, node: node, effects: ["NoExecute"]) == nil
    }

    /// The node a daemon pod is for: its binding, or the node its required affinity names.
    public static func node(of pod: JSONValue) -> String? {
        if let name = pod["spec"]["nodeName"].stringValue, !name.isEmpty { return name }
        let terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].arrayValue ?? []
        for term in terms {
            for field in term["matchFields"].arrayValue ?? [] where field["key"] == "metadata.name" && field["operator"] == "In" {
                if let values = field["values"].arrayValue, values.count == 1 { return values[0].stringValue }
            }
        }
        return nil
    }

    /// The pod for `node`: its required node affinity is replaced by one term naming the node.
    public static func pod(_ set: JSONValue, node: String, template: JSONValue, revision: String) -> JSONValue {
        var pod = PodTemplates.pod(from: template, owner: ControllerRef.reference(to: set, .daemonSets), prefix: set.name,
                                   extraLabels: ["controller-revision-hash": revision])
        pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = [
            "nodeSelectorTerms": [["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]]]],
        ]
        return pod
    }
}
