import TugAPI
import TugAPIMachinery

/// Objects every cluster has: the system namespaces, the `kubernetes` service in `default`, and the built-in
/// priority classes `system-cluster-critical` and `system-node-critical`.
public enum Bootstrap {
    public static func ensure(_ store: ObjectStore, apiServerAddress: String, apiServerPort: Int) async throws {
        guard let ns = store.scheme.resource(group: "", version: "v1", resource: "namespaces"),
              let svc = store.scheme.resource(group: "", version: "v1", resource: "services") else { return }
        // Concurrent creates share one group commit (one fsync) instead of one each.
        let missing = ["default", "kube-system", "kube-public", "kube-node-lease"].filter {
            store.backend.get(key: StorageKeys.key(ns, namespace: "", name: $0)) == nil
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in missing {
                group.addTask { _ = try await store.create(ns, namespace: "", object: ["metadata": ["name": .string(name)]]) }
            }
            try await group.waitForAll()
        }
        if store.backend.get(key: StorageKeys.key(svc, namespace: "default", name: "kubernetes")) == nil {
            _ = try await store.create(svc, namespace: "default", object: [
                "metadata": ["name": "kubernetes", "labels": ["component": "apiserver", "provider": "kubernetes"]],
                "spec": ["clusterIP": .string(store.serviceNetwork.kubernetesIP), "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(apiServerPort))]]],
            ])
        }
        if let pc = store.scheme.resource(group: "scheduling.k8s.io", version: "v1", resource: "priorityclasses") {
            for (name, value) in PriorityClassStrategy.systemClasses.sorted(by: { $0.key < $1.key })
            where store.backend.get(key: StorageKeys.key(pc, namespace: "", name: name)) == nil {
                _ = try await store.create(pc, namespace: "", object: [
                    "metadata": ["name": .string(name)], "value": .int(value),
                    "description": .string("Used for system critical pods that must \(name == "system-node-critical" ? "not be moved from their current node" : "run in the cluster, but can be moved to another node if necessary")."),
                ])
            }
        }
    }
}
