import Testing
import TugAPIMachinery
@testable import TugDNS
import TugDNSWire

/// The records CoreDNS's kubernetes plugin would serve, from Services and EndpointSlices.
@Suite struct ClusterZoneTests {
    static let services: [JSONValue] = [
        ["metadata": ["name": "web", "namespace": "shop"],
         "spec": ["clusterIP": "10.43.0.20", "clusterIPs": ["10.43.0.20"], "ports": [["name": "http", "port": 80, "protocol": "TCP"]]]],
        ["metadata": ["name": "db", "namespace": "shop"],
         "spec": ["clusterIP": "None", "ports": [["name": "pg", "port": 5432]]]],
        ["metadata": ["name": "ext", "namespace": "shop"], "spec": ["type": "ExternalName", "externalName": "Example.COM."]],
    ]
    static let slices: [JSONValue] = [
        ["metadata": ["name": "db-abc", "namespace": "shop", "labels": ["kubernetes.io/service-name": "db"]], "addressType": "IPv4",
         "ports": [["name": "pg", "port": 5432, "protocol": "TCP"]],
         "endpoints": [["addresses": ["10.42.0.7"], "hostname": "db-0", "conditions": ["ready": true]],
                       ["addresses": ["10.42.0.8"], "conditions": ["ready": true]],
                       ["addresses": ["10.42.0.9"], "hostname": "db-2", "conditions": ["ready": false]]]],
    ]
    let zone = ClusterZone(services: services, slices: slices)

    func ask(_ name: String, _ type: DNSMessage.RecordType) -> ClusterZone.Answer { zone.answer(.init(name: name, type: type.rawValue)) }

    func data(_ answer: ClusterZone.Answer) -> [DNSMessage.RecordData] {
        if case .records(let records, _) = answer { return records.map(\.data) }
        return []
    }

    @Test func serviceAddressSRVAndReverse() {
        #expect(data(ask("web.shop.svc.cluster.local", .a)) == [.a([10, 43, 0, 20])])
        #expect(ask("web.shop.svc.cluster.local", .aaaa) == .noData)
        guard case .records(let srv, let additional) = ask("_http._tcp.web.shop.svc.cluster.local", .srv) else { Issue.record("no SRV"); return }
        #expect(srv.map(\.data) == [.srv(priority: 0, weight: 100, port: 80, target: "web.shop.svc.cluster.local")])
        #expect(additional.map(\.data) == [.a([10, 43, 0, 20])])
        #expect(data(ask("20.0.43.10.in-addr.arpa", .ptr)) == [.ptr("web.shop.svc.cluster.local")])
    }

    @Test func headlessServiceAnswersReadyEndpointsAndTheirHostnames() {
        #expect(Set(data(ask("db.shop.svc.cluster.local", .a))) == [.a([10, 42, 0, 7]), .a([10, 42, 0, 8])])
        #expect(data(ask("db-0.db.shop.svc.cluster.local", .a)) == [.a([10, 42, 0, 7])])
        #expect(data(ask("10-42-0-8.db.shop.svc.cluster.local", .a)) == [.a([10, 42, 0, 8])])
        #expect(ask("db-2.db.shop.svc.cluster.local", .a) == .nameError, "not ready")
        #expect(data(ask("7.0.42.10.in-addr.arpa", .ptr)) == [.ptr("db-0.db.shop.svc.cluster.local")])
        #expect(Set(data(ask("_pg._tcp.db.shop.svc.cluster.local", .srv))) == [
            .srv(priority: 0, weight: 100, port: 5432, target: "db-0.db.shop.svc.cluster.local"),
            .srv(priority: 0, weight: 100, port: 5432, target: "10-42-0-8.db.shop.svc.cluster.local"),
        ])
    }

    @Test func externalNamePodNamesAndMisses() {
        #expect(data(ask("ext.shop.svc.cluster.local", .a)) == [.cname("example.com")])
        #expect(data(ask("10-42-0-99.shop.pod.cluster.local", .a)) == [.a([10, 42, 0, 99])])
        #expect(ask("shop.svc.cluster.local", .a) == .noData, "an empty non-terminal exists")
        #expect(ask("nothing.shop.svc.cluster.local", .a) == .nameError)
        #expect(ask("web.shop.svc.cluster.local.shop.svc.cluster.local", .a) == .nameError)
        #expect(ask("example.com", .a) == .notInZone)
        #expect(ask("1.1.168.192.in-addr.arpa", .ptr) == .notInZone)
    }
}

@Suite struct DNSMessageTests {
    @Test func longNamesRoundTrip() throws {
        let name = "web.p-test-cluster-ip-from-the-host-and-from-a.svc.cluster.local"
        let query = DNSMessage(id: 7, question: .init(name: name, type: 1))
        let parsed = try DNSMessage(parsing: query.encoded())
        #expect(parsed.question?.name == name)
    }
}

