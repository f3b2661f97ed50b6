import Testing
import TugAPI
import TugAPIMachinery
import TugStorage
@testable import TugRegistry

/// What the server writes for its own Services and the ingress class, and the DefaultIngressClass admission.
@Suite struct ServiceBootstrapTests {
    func resource(_ store: ObjectStore, _ group: String, _ name: String) -> ResourceDefinition {
        store.scheme.resource(group: group, version: "v1", resource: name)!
    }

    @Test func controlPlaneServicesGetTheirEndpoints() async throws {
        let store = ObjectStore(scheme: .builtIn, backend: InMemoryBackend())
        try await Bootstrap.ensure(store, apiServerAddress: "192.0.2.5", apiServerPort: 6443, clusterDNSPort: 10053, ingressController: "x/y")
        let dns = try store.getObject(resource(store, "", "services"), namespace: "kube-system", name: "kube-dns")
        #expect(dns["spec"]["clusterIP"] == "10.43.0.10")
        #expect(dns["spec"]["ports"][0]["targetPort"] == 10053 && dns["spec"]["ports"][0]["protocol"] == "UDP")
        let slice = try store.getObject(resource(store, "discovery.k8s.io", "endpointslices"), namespace: "kube-system", name: "kube-dns")
        #expect(slice["endpoints"][0]["addresses"] == ["192.0.2.5"] && slice["ports"][1]["port"] == 10053)
        let endpoints = try store.getObject(resource(store, "", "endpoints"), namespace: "default", name: "kubernetes")
        #expect(endpoints["subsets"][0]["addresses"][0]["ip"] == "192.0.2.5" && endpoints["subsets"][0]["ports"][0]["port"] == 6443)

        // A restart on another address and DNS port updates them in place.
        try await Bootstrap.ensure(store, apiServerAddress: "192.0.2.6", apiServerPort: 6443, clusterDNSPort: 10054, ingressController: "x/y")
        let moved = try store.getObject(resource(store, "discovery.k8s.io", "endpointslices"), namespace: "kube-system", name: "kube-dns")
        #expect(moved["endpoints"][0]["addresses"] == ["192.0.2.6"] && moved["ports"][0]["port"] == 10054)
    }

    @Test func ingressesWithoutAClassGetTheDefaultOne() async throws {
        let store = ObjectStore(scheme: .builtIn, backend: InMemoryBackend())
        try await Bootstrap.ensure(store, apiServerAddress: "192.0.2.5", apiServerPort: 6443, ingressController: "tugboat.dev/ingress-controller")
        let ingresses = resource(store, "networking.k8s.io", "ingresses")
        let rule: JSONValue = ["rules": [["http": ["paths": [["path": "/", "pathType": "Prefix", "backend": ["service": ["name": "web", "port": ["number": 80]]]]]]]]]
        let plain = try await store.create(ingresses, namespace: "default", object: ["metadata": ["name": "a"], "spec": rule])
        #expect(plain["spec"]["ingressClassName"] == "tug")
        var other = rule
        other["ingressClassName"] = "nginx"
        #expect(try await store.create(ingresses, namespace: "default", object: ["metadata": ["name": "b"], "spec": other])["spec"]["ingressClassName"] == "nginx")
        let annotated = try await store.create(ingresses, namespace: "default", object: [
            "metadata": ["name": "c", "annotations": ["kubernetes.io/ingress.class": "nginx"]], "spec": rule])
        #expect(annotated["spec"]["ingressClassName"].isNull)
    }
}
