import Testing
import TugAPIMachinery
@testable import TugControllers

@Suite struct ServiceEndpointsTests {
    static let service: JSONValue = ["metadata": ["name": "web", "namespace": "ns"],
                                     "spec": ["selector": ["app": "web"], "ports": [
                                        ["name": "http", "port": 80, "targetPort": "http"],
                                        ["name": "metrics", "port": 9090, "targetPort": 9100],
                                        ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"]]]]

    static func pod(_ name: String, ip: String?, ready: Bool, labels: [String: String] = ["app": "web"], phase: String = "Running") -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string(name), "namespace": "ns", "uid": .string(name), "labels": JSONValue(stringMap: labels)],
                              "spec": ["containers": [["name": "c", "ports": [["name": "http", "containerPort": 8080]]]]],
                              "status": ["phase": .string(phase), "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]]]]
        if let ip { pod["status"]["podIP"] = .string(ip) }
        return pod
    }

    @Test func namedPortsResolvePerPodAndMissingOnesAreLeftOut() {
        let ports = ServiceEndpoints.resolve(Self.service, for: Self.pod("a", ip: "10.0.0.1", ready: true))
        #expect(ports.map(\.port) == [8080, 9100])
        #expect(ports.map(\.name) == ["http", "metrics"])
    }

    @Test func onlyMatchingPodsWithAnIPThatAreNotFinished() {
        let pods = [Self.pod("b", ip: "10.0.0.2", ready: false), Self.pod("a", ip: "10.0.0.1", ready: true),
                    Self.pod("no-ip", ip: nil, ready: false), Self.pod("other", ip: "10.0.0.3", ready: true, labels: ["app": "db"]),
                    Self.pod("done", ip: "10.0.0.4", ready: false, phase: "Succeeded")]
        let backends = ServiceEndpoints.backends(Self.service, pods: pods) ?? []
        #expect(backends.map(\.ip) == ["10.0.0.1", "10.0.0.2"])
        #expect(backends.map(\.ready) == [true, false])
        var publishing = Self.service
        publishing["spec"]["publishNotReadyAddresses"] = true
        #expect(ServiceEndpoints.backends(publishing, pods: pods)?.allSatisfy(\.ready) == true)
    }

    @Test func servicesWithoutSelectorsAreTheUsers() {
        var manual = Self.service
        manual["spec"]["selector"] = .null
        #expect(ServiceEndpoints.backends(manual, pods: [Self.pod("a", ip: "10.0.0.1", ready: true)]) == nil)
    }
}
