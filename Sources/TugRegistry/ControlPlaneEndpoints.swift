import TugAPI
import TugAPIMachinery

/// The endpoints of the Services the control plane serves itself (`kubernetes` → the API server, `kube-dns` → the
/// cluster DNS server): selector-less Services whose Endpoints and EndpointSlice the server writes at start, as
/// kube-apiserver's endpoint reconciler does for `kubernetes`. The proxies then route the cluster IPs to them.
public enum ControlPlaneEndpoints {
    public struct Port: Sendable, Hashable {
        public var name: String
        public var port: Int
        public var proto: String

        public init(name: String, port: Int, proto: String = "TCP") {
            self.name = name
            self.port = port
            self.proto = proto
        }
    }

    /// Makes the Endpoints and EndpointSlice named `name` in `namespace` point at `address` with `ports`.
    public static func ensure(_ store: ObjectStore, namespace: String, name: String, address: String, ports: [Port]) async throws {
        guard let endpoints = store.scheme.resource(group: "", version: "v1", resource: "endpoints"),
              let slices = store.scheme.resource(group: "discovery.k8s.io", version: "v1", resource: "endpointslices") else { return }
        let subsets: JSONValue = [[
            "addresses": [["ip": .string(address)]],
            "ports": .array(ports.map { ["name": .string($0.name), "port": .int(Int64($0.port)), "protocol": .string($0.proto)] }),
        ]]
        try await put(store, endpoints, namespace: namespace, name: name, labels: [:], fields: ["subsets": subsets])
        try await put(store, slices, namespace: namespace, name: name, labels: ["kubernetes.io/service-name": name], fields: [
            "addressType": "IPv4",
            "endpoints": [["addresses": [.string(address)], "conditions": ["ready": true, "serving": true, "terminating": false]]],
            "ports": .array(ports.map { ["name": .string($0.name), "port": .int(Int64($0.port)), "protocol": .string($0.proto)] }),
        ])
    }

    /// Creates the object, or updates it where `fields` or `labels` differ.
    static func put(_ store: ObjectStore, _ d: ResourceDefinition, namespace: String, name: String, labels: [String: String],
                    fields: JSONObject) async throws {
        if let current = try? store.getObject(d, namespace: namespace, name: name) {
            var updated = current
            for (key, value) in fields { updated[key] = value }
            for (key, value) in labels { updated["metadata"]["labels"][key] = .string(value) }
            guard updated != current else { return }
            _ = try await store.update(d, namespace: namespace, name: name, object: updated)
        } else {
            var object: JSONValue = ["metadata": ["name": .string(name), "labels": JSONValue(stringMap: labels)]]
            for (key, value) in fields { object[key] = value }
            _ = try await store.create(d, namespace: namespace, object: object)
        }
    }
}
