import Testing
@testable import TugProxy

/// Rendering and diffing, without a kernel.
@Suite struct ProxyRulesTests {
    let rules = ProxyRules(names: ChainNames(prefix: "TUG-ABC123"), clusterCIDR: "10.42.0.0/16")

    static func port(_ name: String, ip: String, endpoints: [String], nodePort: Int? = nil, lb: Bool = false, affinity: Int? = nil) -> ServicePort {
        ServicePort(namespace: "ns", name: name, portName: "", proto: "tcp", clusterIPs: [ip], port: 80, nodePort: nodePort, loadBalancer: lb,
                    affinitySeconds: affinity, endpoints: endpoints.map { .init(ip: $0, port: 8080) })
    }

    @Test func chainNamesFitIptablesLimitAndAreStable() {
        let names = ChainNames(root: "/var/lib/tugboat/agent")
        #expect(names.prefix.count == 10 && names.prefix.hasPrefix("TUG-"))
        #expect(names == ChainNames(root: "/var/lib/tugboat/agent") && names != ChainNames(root: "/tmp/other/agent"))
        let port = Self.port("a-very-long-service-name-indeed", ip: "10.43.0.2", endpoints: ["10.42.0.9"])
        for chain in [names.service(port), names.externalService(port), names.endpoint(port, port.endpoints[0]), names.postrouting] {
            #expect(chain.count <= 28, "\(chain)")
        }
    }

    @Test func randomBalancingAcrossEndpointsWithHairpinMasquerade() {
        let port = Self.port("web", ip: "10.43.0.20", endpoints: ["10.42.0.5", "10.42.0.6", "10.42.0.7"])
        let nat = rules.render([port]).tables["nat"]!
        let svc = rules.names.service(port)
        #expect(nat.chains[rules.names.services] == ["-d 10.43.0.20/32 -m comment --comment \"ns/web cluster IP\" -p tcp -m tcp --dport 80 -j \(svc)"])
        let sep = port.endpoints.map { rules.names.endpoint(port, $0) }
        #expect(nat.chains[svc] == [
            "! -s 10.42.0.0/16 -m addrtype ! --src-type LOCAL -j TUG-ABC123-MARK-MASQ",
            "-m statistic --mode random --probability 0.3333333333 -j \(sep[0])",
            "-m statistic --mode random --probability 0.5000000000 -j \(sep[1])",
            "-j \(sep[2])",
        ])
        #expect(nat.chains[sep[1]] == ["-s 10.42.0.6/32 -j TUG-ABC123-MARK-MASQ", "-p tcp -m tcp -j DNAT --to-destination 10.42.0.6:8080"])
        #expect(rules.render([port]).tables["filter"]!.chains[rules.names.services] == [])
    }

    @Test func nodePortLoadBalancerAndAffinity() {
        let port = Self.port("lb", ip: "10.43.0.21", endpoints: ["10.42.0.5"], nodePort: 31000, lb: true, affinity: 30)
        let nat = rules.render([port]).tables["nat"]!
        let ext = rules.names.externalService(port)
        #expect(nat.chains[rules.names.nodePorts] == [
            "-m comment --comment \"ns/lb node port\" -p tcp -m tcp --dport 31000 -j \(ext)",
            "-m comment --comment \"ns/lb load balancer\" -p tcp -m tcp --dport 80 -j \(ext)",
        ])
        #expect(nat.chains[ext] == ["-j TUG-ABC123-MARK-MASQ", "-j \(rules.names.service(port))"])
        let sep = rules.names.endpoint(port, port.endpoints[0])
        #expect(nat.chains[rules.names.service(port)]?.contains("-m recent --name \(sep) --mask 255.255.255.255 --rsource --rcheck --seconds 30 --reap -j \(sep)") == true)
        #expect(nat.chains[sep]?.last == "-p tcp -m recent --set --name \(sep) --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.42.0.5:8080")
    }

    @Test func portsWithoutEndpointsAreRejectedNotRouted() {
        let port = Self.port("empty", ip: "10.43.0.22", endpoints: [], nodePort: 30500)
        let set = rules.render([port])
        #expect(set.tables["nat"]!.chains[rules.names.services] == [])
        #expect(set.tables["nat"]!.chains[rules.names.service(port)] == nil)
        #expect(set.tables["filter"]!.chains[rules.names.services]?.first?.hasSuffix("--dport 80 -j REJECT --reject-with icmp-port-unreachable") == true)
        #expect(set.tables["filter"]!.chains[rules.names.external]?.first?.contains("--dport 30500") == true)
    }

    @Test func deltaTouchesOnlyWhatChanged() throws {
        let ports = (0..<100).map { Self.port("s\($0)", ip: "10.43.1.\($0)", endpoints: ["10.42.0.\($0 + 2)"]) }
        let before = rules.render(ports)
        var changed = ports
        changed[7].endpoints.append(.init(ip: "10.42.1.1", port: 8080))
        changed.remove(at: 50)
        let document = try #require(RestoreDocument.delta(from: before, to: rules.render(changed)))
        let lines = document.split(separator: "\n").map(String.init)
        // s7's service chain is rewritten and gains an endpoint chain; s50's rules and chains go; nothing else.
        let svc7 = rules.names.service(ports[7])
        #expect(lines.contains(":\(svc7) - [0:0]"))
        #expect(lines.contains(":\(rules.names.endpoint(ports[7], .init(ip: "10.42.1.1", port: 8080))) - [0:0]"))
        #expect(lines.contains { $0.hasPrefix("-D TUG-ABC123-SERVICES -d 10.43.1.50/32") })
        #expect(lines.contains("-X \(rules.names.service(ports[50]))"))
        #expect(!lines.contains { $0.contains("10.43.1.8/32") })
        #expect(!lines.contains(":TUG-ABC123-SERVICES - [0:0]"), "the dispatch chain is edited, never flushed")
        #expect(lines.count < 20)
        #expect(RestoreDocument.delta(from: before, to: rules.render(ports)) == nil)
    }

    @Test func fullSyncDeclaresAllInsertsMissingJumpsAndRemovesStaleChains() {
        let save = """
            *nat
            :PREROUTING ACCEPT [0:0]
            :TUG-ABC123-SERVICES - [0:0]
            :TUG-ABC123-SVC-OLD - [0:0]
            :TUG-OTHER1-SERVICES - [0:0]
            -A PREROUTING -m comment --comment "tug service portals" -j TUG-ABC123-SERVICES
            -A PREROUTING -j TUG-ABC123-GONE
            -A PREROUTING -j TUG-OTHER1-SERVICES
            COMMIT
            """
        let existing = RestoreDocument.Existing(save: save, names: rules.names)
        #expect(existing.chains["nat"] == ["TUG-ABC123-SERVICES", "TUG-ABC123-SVC-OLD"])
        let lines = RestoreDocument.full(rules.render([]), existing: existing).split(separator: "\n").map(String.init)
        #expect(lines.contains(":TUG-ABC123-SVC-OLD - [0:0]") && lines.contains("-X TUG-ABC123-SVC-OLD"))
        #expect(lines.contains("-D PREROUTING -j TUG-ABC123-GONE"))
        #expect(!lines.contains { $0.contains("TUG-OTHER1") })
        #expect(!lines.contains("-I PREROUTING 1 -m comment --comment \"tug service portals\" -j TUG-ABC123-SERVICES"), "present jumps stay")
        #expect(lines.contains("-I POSTROUTING 1 -m comment --comment \"tug postrouting rules\" -j TUG-ABC123-POSTROUTING"))
    }

    @Test func probabilityHasTenDecimals() {
        #expect(ProxyRules.probability(1, 3) == "0.3333333333")
        #expect(ProxyRules.probability(1, 2) == "0.5000000000")
        #expect(ProxyRules.probability(1, 7) == "0.1428571429")
    }
}
