import Testing
import TugAPIMachinery
@testable import TugProxy

/// Service and EndpointSlice objects to the ports the proxy programs.
@Suite struct ServicePortTests {
    static func service(_ spec: JSONValue, name: String = "web") -> JSONValue {
        ["metadata": ["name": .string(name), "namespace": "ns"], "spec": spec]
    }

    static func slice(_ endpoints: [(String, Bool?)], ports: JSONValue) -> JSONValue {
        ["addressType": "IPv4", "ports": ports, "endpoints": .array(endpoints.map { ip, ready in
            var endpoint: JSONValue = ["addresses": [.string(ip)]]
            if let ready { endpoint["conditions"] = ["ready": .bool(ready)] }
            return endpoint
        })]
    }

    @Test func portsCarryReadyEndpointsOfTheirNamedSlicePort() {
        let svc = Self.service(["type": "NodePort", "clusterIP": "10.43.0.20", "clusterIPs": ["10.43.0.20"],
                                "ports": [["name": "http", "port": 80, "nodePort": 30080], ["name": "dns", "port": 53, "protocol": "UDP"]]])
        let slices = [
            Self.slice([("10.42.0.5", true), ("10.42.0.6", false), ("10.42.0.7", nil)], ports: [["name": "http", "port": 8080, "protocol": "TCP"]]),
            Self.slice([("10.42.0.5", true)], ports: [["name": "dns", "port": 5353, "protocol": "UDP"]]),
        ]
        let ports = ServicePort.ports(of: svc, slices: slices)
        #expect(ports.count == 2)
        #expect(ports[0].id == "ns/web:http" && ports[0].proto == "tcp" && ports[0].nodePort == 30080 && !ports[0].loadBalancer)
        #expect(ports[0].endpoints == [.init(ip: "10.42.0.5", port: 8080), .init(ip: "10.42.0.7", port: 8080)])
        #expect(ports[1].proto == "udp" && ports[1].nodePort == nil && ports[1].endpoints == [.init(ip: "10.42.0.5", port: 5353)])
    }

    @Test func terminatingButServingEndpointsOnlyWhenNoneIsReady() {
        let svc = Self.service(["clusterIP": "10.43.0.20", "ports": [["name": "http", "port": 80]]])
        func endpoint(_ ip: String, ready: Bool, serving: Bool, terminating: Bool) -> JSONValue {
            ["addresses": [.string(ip)], "conditions": ["ready": .bool(ready), "serving": .bool(serving), "terminating": .bool(terminating)]]
        }
        let old = endpoint("10.42.0.5", ready: false, serving: true, terminating: true)
        let gone = endpoint("10.42.0.6", ready: false, serving: false, terminating: true)
        let new = endpoint("10.42.0.7", ready: true, serving: true, terminating: false)
        func slice(_ endpoints: [JSONValue]) -> JSONValue {
            ["addressType": "IPv4", "ports": [["name": "http", "port": 8080, "protocol": "TCP"]], "endpoints": .array(endpoints)]
        }
        #expect(ServicePort.ports(of: svc, slices: [slice([old, gone])])[0].endpoints == [.init(ip: "10.42.0.5", port: 8080)])
        #expect(ServicePort.ports(of: svc, slices: [slice([old, gone, new])])[0].endpoints == [.init(ip: "10.42.0.7", port: 8080)])
    }

    @Test func headlessAndExternalNameServicesHaveNoPorts() {
        #expect(ServicePort.ports(of: Self.service(["clusterIP": "None", "ports": [["port": 80]]]), slices: []).isEmpty)
        #expect(ServicePort.ports(of: Self.service(["type": "ExternalName", "externalName": "example.com"]), slices: []).isEmpty)
    }

    @Test func loadBalancerAndAffinity() {
        let svc = Self.service(["type": "LoadBalancer", "clusterIP": "10.43.0.21", "sessionAffinity": "ClientIP",
                                "sessionAffinityConfig": ["clientIP": ["timeoutSeconds": 60]], "ports": [["port": 80, "nodePort": 31000]]])
        let port = ServicePort.ports(of: svc, slices: [])[0]
        #expect(port.loadBalancer && port.nodePort == 31000 && port.affinitySeconds == 60 && port.id == "ns/web")
    }
}
