import Logging
import Testing
import TugAPIMachinery
import TugClient
import TugControllerRuntime
@testable import TugControllers
import TugTestSupport

/// servicelb against the real API server: a LoadBalancer Service gets the Ready nodes' InternalIPs, follows them,
/// and loses them when it stops being a LoadBalancer.
@Suite struct ServiceLoadBalancerTests {
    static let logger = Logger(label: "test.controllers")

    static func node(_ name: String, ip: String, ready: Bool) -> JSONValue {
        ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)],
         "status": ["addresses": [["type": "InternalIP", "address": .string(ip)], ["type": "Hostname", "address": .string(name)]],
                    "conditions": [["type": "Ready", "status": ready ? "True" : "False"]]]]
    }

    @Test func loadBalancerIngressFollowsReadyNodes() async throws {
        try await TestCluster.run { client in
            let informers = InformerFactory(client: client, logger: Self.logger)
            let controller = ControllerRunner(ServiceLoadBalancerController(client: client, informers: informers, logger: Self.logger), logger: Self.logger)
            try await TestCluster.with([informers, controller]) {
                for (name, ip, ready) in [("a", "192.0.2.10", true), ("b", "192.0.2.11", false)] {
                    let created = try await client.create("/api/v1/nodes", Self.node(name, ip: ip, ready: ready))
                    var withStatus = created
                    withStatus["status"] = Self.node(name, ip: ip, ready: ready)["status"]
                    try await client.update("/api/v1/nodes/\(name)/status", withStatus)
                }
                try await client.create("/api/v1/namespaces/default/services", [
                    "metadata": ["name": "lb"], "spec": ["type": "LoadBalancer", "ports": [["port": 80]]],
                ])
                let path = "/api/v1/namespaces/default/services/lb"
                @Sendable func ingress() async throws -> JSONValue { try await client.send(.GET, path)["status"]["loadBalancer"]["ingress"] }
                try await eventually("the Ready node's address") { try await ingress() == [["ip": "192.0.2.10", "ipMode": "VIP"]] }

                var b = try await client.send(.GET, "/api/v1/nodes/b")
                b["status"] = Self.node("b", ip: "192.0.2.11", ready: true)["status"]
                try await client.update("/api/v1/nodes/b/status", b)
                try await eventually("both addresses") {
                    try await ingress() == [["ip": "192.0.2.10", "ipMode": "VIP"], ["ip": "192.0.2.11", "ipMode": "VIP"]]
                }

                try await client.mergePatch(path, ["spec": ["type": "ClusterIP", "ports": [["port": 80, "nodePort": nil]]]])
                try await eventually("cleared") { try await ingress().isNull }
            }
        }
    }
}
