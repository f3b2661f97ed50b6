public import TugAPIMachinery
import TugControllerRuntime

/// A StatefulSet pod's identity: `<set>-<ordinal>`, its hostname and subdomain (the headless service gives it the
/// DNS name `<pod>.<service>.<namespace>.svc`), its labels, and the claims from `volumeClaimTemplates`.
public enum StatefulSetPods {
    public static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    public static let podIndexLabel = "apps.kubernetes.io/pod-index"
    public static let revisionLabel = "controller-revision-hash"

    public static func ordinal(_ pod: JSONValue, of set: JSONValue) -> Int? {
        let prefix = set.name + "-"
        guard pod.name.hasPrefix(prefix) else { return nil }
        return Int(pod.name.dropFirst(prefix.count))
    }

    public static func name(_ set: JSONValue, _ ordinal: Int) -> String { "\(set.name)-\(ordinal)" }

    public static func claimName(_ template: JSONValue, _ set: JSONValue, _ ordinal: Int) -> String {
        "\(template.name)-\(set.name)-\(ordinal)"
    }

    /// The pod for `ordinal`, from the template of `revision` (its name is the revision label value).
    public static func pod(_ set: JSONValue, ordinal: Int, template: JSONValue, revision: String) -> JSONValue {
        let name = name(set, ordinal)
        var pod = PodTemplates.pod(from: template, owner: ControllerRef.reference(to: set, .statefulSets), prefix: set.name, name: name,
                                   extraLabels: [podNameLabel: name, podIndexLabel: String(ordinal), revisionLabel: revision])
        pod["metadata"]["namespace"] = .string(set.namespace)
        pod["spec"]["hostname"] = .string(name)
        if let service = set["spec"]["serviceName"].stringValue, !service.isEmpty { pod["spec"]["subdomain"] = .string(service) }
        var volumes = pod["spec"]["volumes"].arrayValue ?? []
        for claim in set["spec"]["volumeClaimTemplates"].arrayValue ?? [] {
            volumes.removeAll { $0["name"].stringValue == claim.name }
            volumes.append(["name": .string(claim.name), "persistentVolumeClaim": ["claimName": .string(claimName(claim, set, ordinal))]])
        }
        if !volumes.isEmpty { pod["spec"]["volumes"] = .array(volumes) }
        return pod
    }

    /// The claim for `ordinal` from a volumeClaimTemplate. Claims outlive the set unless its retention policy says
    /// Delete, in which case the set owns them.
    public static func claim(_ template: JSONValue, set: JSONValue, ordinal: Int) -> JSONValue {
        var labels = template.labels
        labels.merge(set["spec"]["selector"]["matchLabels"].stringMap) { _, new in new }
        var claim: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                "metadata": ["name": .string(claimName(template, set, ordinal)), "namespace": .string(set.namespace)],
                                "spec": template["spec"]]
        if !labels.isEmpty { claim.labels = labels }
        if !template["metadata"]["annotations"].isNull { claim["metadata"]["annotations"] = template["metadata"]["annotations"] }
        if set["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"].stringValue == "Delete" {
            claim["metadata"]["ownerReferences"] = [ControllerRef.reference(to: set, .statefulSets)]
        }
        return claim
    }

    /// Running and Ready: what OrderedReady waits for before the next ordinal.
    public static func isRunningAndReady(_ pod: JSONValue) -> Bool {
        pod["status"]["phase"].stringValue == "Running" && PodConditions.isReady(pod) && pod.deletionTimestamp == nil
    }
}
