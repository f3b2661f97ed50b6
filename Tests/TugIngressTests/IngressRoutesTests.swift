import Testing
import TugAPIMachinery
@testable import TugIngress

/// Ingress matching as the Kubernetes API documents it, without a network.
@Suite struct IngressRoutesTests {
    static func service(_ name: String, ports: JSONValue = [["name": "http", "port": 80]]) -> JSONValue {
        ["metadata": ["name": .string(name), "namespace": "ns"], "spec": ["ports": ports]]
    }

    static func slice(_ service: String, ips: [String], port: Int = 8080, name: String = "http") -> JSONValue {
        ["metadata": ["name": .string(service + "-x"), "namespace": "ns", "labels": ["kubernetes.io/service-name": .string(service)]],
         "addressType": "IPv4", "ports": [["name": .string(name), "port": .int(Int64(port))]],
         "endpoints": .array(ips.map { ["addresses": [.string($0)], "conditions": ["ready": true]] })]
    }

    static func path(_ path: String, _ type: String, _ service: String, port: JSONValue = ["number": 80]) -> JSONValue {
        ["path": .string(path), "pathType": .string(type), "backend": ["service": ["name": .string(service), "port": port]]]
    }

    static let ingresses: [JSONValue] = [
        ["metadata": ["name": "a", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z"],
         "spec": ["defaultBackend": ["service": ["name": "fallback", "port": ["name": "http"]]],
                  "tls": [["hosts": ["shop.example.com"], "secretName": "shop-tls"]],
                  "rules": [
                    ["host": "shop.example.com", "http": ["paths": [path("/", "Prefix", "web"), path("/api", "Prefix", "api"), path("/api/v1", "Exact", "v1")]]],
                    ["host": "*.example.com", "http": ["paths": [path("/", "Prefix", "wild")]]],
                    ["http": ["paths": [path("/health", "ImplementationSpecific", "api")]]],
                  ]]],
    ]
    static let routes = IngressRoutes(
        ingresses: ingresses,
        services: ["web", "api", "v1", "wild", "fallback"].map { service($0) },
        slices: [slice("web", ips: ["10.42.0.2", "10.42.0.3"]), slice("api", ips: ["10.42.0.4"]), slice("fallback", ips: ["10.42.0.9"], port: 9090)],
        secrets: [["metadata": ["name": "shop-tls", "namespace": "ns"], "type": "kubernetes.io/tls",
                   "data": ["tls.crt": .string(Base64.encode(Array("CERT".utf8))), "tls.key": .string(Base64.encode(Array("KEY".utf8)))]]])

    func service(_ host: String, _ path: String) -> String? { Self.routes.route(host: host, path: path)?.service }

    @Test func hostsPathsAndPrecedence() {
        #expect(service("shop.example.com", "/") == "web")
        #expect(service("SHOP.example.com:8443", "/cart") == "web")
        #expect(service("shop.example.com", "/api") == "api")
        #expect(service("shop.example.com", "/api/") == "api")
        #expect(service("shop.example.com", "/api/v2") == "api")
        #expect(service("shop.example.com", "/apis") == "web", "Prefix matches whole path elements")
        #expect(service("shop.example.com", "/api/v1") == "v1", "Exact wins at equal length")
        #expect(service("shop.example.com", "/api/v1/x") == "api")
        #expect(service("blog.example.com", "/anything") == "wild")
        #expect(service("a.b.example.com", "/") == "fallback", "a wildcard covers one label only")
        #expect(service("other.test", "/health/live") == "api", "rules without a host apply to every host")
        #expect(service("other.test", "/") == "fallback", "the default backend takes the rest")
        #expect(IngressRoutes().route(host: "x", path: "/") == nil, "no Ingress: 404")
    }

    @Test func backendsAreReadyEndpointsOfTheServicePort() {
        #expect(Self.routes.route(host: "shop.example.com", path: "/")?.endpoints == ["10.42.0.2:8080", "10.42.0.3:8080"])
        #expect(Self.routes.route(host: "x", path: "/")?.endpoints == ["10.42.0.9:9090"], "port by name")
        #expect(Self.routes.route(host: "blog.example.com", path: "/")?.endpoints == [], "no endpoints: 503")
    }

    @Test func certificatesBySNI() {
        #expect(Self.routes.certificate(for: "shop.example.com") == .init(certificatePEM: "CERT", keyPEM: "KEY"))
        #expect(Self.routes.certificate(for: "blog.example.com") == nil)
    }
}
