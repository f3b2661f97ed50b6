import TugAPI
import TugAPIMachinery

/// Objects every cluster has: the system namespaces, the `kubernetes` Service in `default` with its endpoints (the
/// API server's advertised address), the `kube-dns` Service in `kube-system` on the range's tenth address when
/// cluster DNS runs, the default IngressClass `tug` when the ingress controller runs, and the built-in priority classes `system-cluster-critical` and `system-node-critical`.
public enum Bootstrap {
    public static func ensure(_ store: ObjectStore, apiServerAddress: String, apiServerPort: Int, clusterDNSPort: Int? = nil,
                              ingressController: String? = nil) async throws {
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
        try await ControlPlaneEndpoints.ensure(store, namespace: "default", name: "kubernetes", address: apiServerAddress,
                                               ports: [.init(name: "https", port: apiServerPort)])
        if let dnsPort = clusterDNSPort {
            if store.backend.get(key: StorageKeys.key(svc, namespace: "kube-system", name: "kube-dns")) == nil {
                _ = try await store.create(svc, namespace: "kube-system", object: [
                    "metadata": ["name": "kube-dns", "labels": ["k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"]],
                    "spec": ["clusterIP": .string(store.serviceNetwork.dnsIP), "ports": [
                        ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": .int(Int64(dnsPort))],
                        ["name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": .int(Int64(dnsPort))],
                    ]],
                ])
            }
            try await ControlPlaneEndpoints.ensure(store, namespace: "kube-system", name: "kube-dns", address: apiServerAddress,
                                                   ports: [.init(name: "dns", port: dnsPort, proto: "UDP"), .init(name: "dns-tcp", port: dnsPort)])
        }
        if let controller = ingressController, let ic = store.scheme.resource(group: "networking.k8s.io", version: "v1", resource: "ingressclasses"),
           store.backend.get(key: StorageKeys.key(ic, namespace: "", name: "tug")) == nil {
            _ = try await store.create(ic, namespace: "", object: [
                "metadata": ["name": "tug", "annotations": JSONValue(stringMap: [DefaultIngressClass.defaultAnnotation: "true"])],
                "spec": ["controller": .string(controller)],
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
