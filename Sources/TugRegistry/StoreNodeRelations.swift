import TugAPI
import TugAPIMachinery
import TugAuth

/// The Node authorizer's relations, read from the store: which Secrets, ConfigMaps, claims and service accounts
/// the pods bound to a node use (volumes, projected sources, env and envFrom references, image pull secrets, the
/// service account).
final class StoreNodeRelations: NodeRelations {
    unowned let store: ObjectStore

    init(store: ObjectStore) {
        self.store = store
    }

    func node(_ node: String, uses resource: String, namespace: String, name: String) -> Bool {
        guard let pods = store.definition(group: "", resource: "pods"), let fields = try? FieldSelector.parse("spec.nodeName=\(node)"),
              let listed = try? store.list(pods, namespace: namespace, labels: LabelSelector(requirements: []), fields: fields) else { return false }
        return listed.items.contains { item in
            guard let pod = try? store.decode(item) else { return false }
            return Self.references(pod["spec"], podName: pod.name)[resource]?.contains(name) ?? false
        }
    }

    /// Every object a pod spec names, by resource.
    static func references(_ spec: JSONValue, podName: String) -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        func add(_ resource: String, _ name: String?) { if let name, !name.isEmpty { out[resource, default: []].insert(name) } }
        add("serviceaccounts", spec["serviceAccountName"].stringValue ?? "default")
        for secret in spec["imagePullSecrets"].arrayValue ?? [] { add("secrets", secret["name"].stringValue) }
        for volume in spec["volumes"].arrayValue ?? [] {
            add("secrets", volume["secret"]["secretName"].stringValue)
            add("configmaps", volume["configMap"]["name"].stringValue)
            add("persistentvolumeclaims", volume["persistentVolumeClaim"]["claimName"].stringValue)
            if !volume["ephemeral"].isNull { add("persistentvolumeclaims", "\(podName)-\(volume["name"].stringValue ?? "")") }
            for source in volume["projected"]["sources"].arrayValue ?? [] {
                add("secrets", source["secret"]["name"].stringValue)
                add("configmaps", source["configMap"]["name"].stringValue)
            }
        }
        for container in ["initContainers", "containers", "ephemeralContainers"].flatMap({ spec[$0].arrayValue ?? [] }) {
            for env in container["env"].arrayValue ?? [] {
                add("secrets", env["valueFrom"]["secretKeyRef"]["name"].stringValue)
                add("configmaps", env["valueFrom"]["configMapKeyRef"]["name"].stringValue)
            }
            for source in container["envFrom"].arrayValue ?? [] {
                add("secrets", source["secretRef"]["name"].stringValue)
                add("configmaps", source["configMapRef"]["name"].stringValue)
            }
        }
        return out
    }
}
