import TugAPI
import TugAPIMachinery
import TugAuth

/// The ServiceAccount admission plugin, on pod creation: `serviceAccountName` defaults to `default`, and unless
/// automounting is turned off (by the pod, or by its ServiceAccount) every container gets the account's credentials
/// at /var/run/secrets/kubernetes.io/serviceaccount through a projected `kube-api-access-…` volume: a bound token,
/// the cluster CA (`kube-root-ca.crt`) and the namespace.
struct ServiceAccountAdmission: AdmissionPlugin {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?, user: UserInfo?) throws(StatusError) {
        guard old == nil, case .object = object["spec"] else { return }
        let account = object["spec"]["serviceAccountName"].stringValue ?? object["spec"]["serviceAccount"].stringValue ?? "default"
        object["spec"]["serviceAccountName"] = .string(account)
        object["spec"]["serviceAccount"] = .string(account)
        if object["spec"]["automountServiceAccountToken"].boolValue == false { return }
        if object["spec"]["automountServiceAccountToken"].isNull, let sa = store.definition(group: "", resource: "serviceaccounts"),
           let stored = store.backend.get(key: StorageKeys.key(sa, namespace: object.namespace, name: account)),
           (try? store.decode(stored))?["automountServiceAccountToken"].boolValue == false {
            return
        }
        let lists = ["initContainers", "containers"]
        let alreadyMounted = lists.contains { list in
            (object["spec"][list].arrayValue ?? []).contains { c in
                (c["volumeMounts"].arrayValue ?? []).contains { $0["mountPath"].stringValue == Self.mountPath }
            }
        }
        guard !alreadyMounted else { return }
        let name = "kube-api-access-" + Self.suffix()
        var volumes = object["spec"]["volumes"].arrayValue ?? []
        volumes.append(["name": .string(name), "projected": [
            "defaultMode": 420,
            "sources": [
                ["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]],
                ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
            ],
        ]])
        object["spec"]["volumes"] = .array(volumes)
        for list in lists {
            guard var containers = object["spec"][list].arrayValue else { continue }
            for i in containers.indices {
                var mounts = containers[i]["volumeMounts"].arrayValue ?? []
                mounts.append(["name": .string(name), "readOnly": true, "mountPath": .string(Self.mountPath)])
                containers[i]["volumeMounts"] = .array(mounts)
            }
            object["spec"][list] = .array(containers)
        }
    }

    func release(_ object: JSONValue) {}

    /// Five characters from Kubernetes' name-suffix alphabet (no vowels, no easily confused characters).
    static func suffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}
