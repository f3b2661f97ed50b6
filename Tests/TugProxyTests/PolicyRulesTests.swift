import Testing
import TugAPIMachinery
@testable import TugProxy

@Suite struct PolicyRulesTests {
    let rules = PolicyRules(names: ChainNames(prefix: "TUG-ABCDEF").policy, nodeName: "n1")

    func pod(_ name: String, ns: String = "default", node: String = "n1", ip: String, labels: [String: String] = [:],
             ports: [(String, Int64)] = [], phase: String = "Running") -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string(name), "namespace": .string(ns), "uid": .string("uid-\(name)")],
                              "spec": ["nodeName": .string(node), "containers": [["name": "c", "ports": .array(ports.map { ["name": .string($0.0), "containerPort": .int($0.1)] })]]],
                              "status": ["podIP": .string(ip), "phase": .string(phase)]]
        pod["metadata"]["labels"] = JSONValue(stringMap: labels)
        return pod
    }

    func policy(_ name: String, ns: String = "default", _ spec: JSONValue) -> JSONValue {
        ["metadata": ["name": .string(name), "namespace": .string(ns), "uid": .string("p-\(name)")], "spec": spec]
    }

    func chain(_ set: RuleSet, _ tag: String, _ pod: String) -> [String]? {
        set.tables["filter"]?.chains["TNP-ABCDEF-\(tag)-\(ChainNames.tag("uid-\(pod)"))"]
    }

    @Test func unselectedPodsAndOtherNodesAreUntouched() {
        let set = rules.render(policies: [], pods: [pod("a", ip: "10.42.0.2")], namespaces: [])
        #expect(set.tables["filter"]?.chains == ["TNP-ABCDEF-FORWARD": ["-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"]])
        #expect(set.tables["filter"]?.jumps.map(\.from) == ["FORWARD"])
        let remote = rules.render(policies: [policy("deny", ["podSelector": [:], "policyTypes": ["Ingress"]])],
                                  pods: [pod("b", node: "n2", ip: "10.42.1.2")], namespaces: [])
        #expect(remote.tables["filter"]?.chains.count == 1, "a pod of another node is that node's business")
    }

    @Test func defaultDenyAndAllowRules() {
        let web = pod("web", ip: "10.42.0.2", labels: ["app": "web"], ports: [("http", 8080)])
        let client = pod("client", node: "n2", ip: "10.42.1.5", labels: ["role": "client"])
        let stranger = pod("stranger", ip: "10.42.0.9")
        let finished = pod("done", ip: "10.42.0.10", labels: ["role": "client"], phase: "Succeeded")
        let policies = [
            policy("deny", ["podSelector": ["matchLabels": ["app": "web"]], "policyTypes": ["Ingress"]]),
            policy("allow", ["podSelector": ["matchLabels": ["app": "web"]], "ingress": [[
                "from": [["podSelector": ["matchLabels": ["role": "client"]]], ["ipBlock": ["cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]]]],
                "ports": [["protocol": "TCP", "port": "http"], ["protocol": "UDP", "port": 53, "endPort": 60], ["protocol": "TCP", "port": "nope"]],
            ]]]),
        ]
        let set = rules.render(policies: policies, pods: [web, client, stranger, finished], namespaces: [])
        let ingress = chain(set, "I", "web")
        let comment = "-m comment --comment \"default/allow\""
        #expect(ingress?.first == "-j MARK --set-xmark 0x0/0x20000")
        #expect(ingress?.contains("\(comment) -s 10.42.1.5/32 -p tcp -m tcp --dport 8080 -j RETURN") == true, "named port of the receiving pod")
        #expect(ingress?.contains("\(comment) -s 10.42.1.5/32 -p udp -m udp --dport 53:60 -j RETURN") == true)
        #expect(ingress?.contains { $0.contains("10.42.0.10") } == false, "finished pods have no address to allow")
        #expect(ingress?.contains { $0.contains("10.42.0.9") } == false)
        #expect(ingress?.suffix(2).allSatisfy { $0.contains("-j REJECT") } == true)
        let block = set.tables["filter"]?.chains.first { $0.key.contains("-B-") }?.value
        #expect(block == ["-s 192.168.1.0/24 -j RETURN", "-s 192.168.0.0/16 -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x20000/0x20000",
                          "-s 192.168.0.0/16 -p udp -m udp --dport 53:60 -j MARK --set-xmark 0x20000/0x20000"])
        #expect(ingress?.contains("\(comment) -m mark --mark 0x20000/0x20000 -j RETURN") == true)
        #expect(chain(set, "E", "web") == nil, "no egress policy: egress is open")
        #expect(set.tables["filter"]?.chains["TNP-ABCDEF-FORWARD"]?.contains("-d 10.42.0.2/32 -j \("TNP-ABCDEF-I-" + ChainNames.tag("uid-web"))") == true)
    }

    @Test func egressAndNamespaces() {
        let client = pod("client", ip: "10.42.0.3", labels: ["role": "client"])
        let db = pod("db", ns: "data", node: "n2", ip: "10.42.1.7", labels: ["app": "db"], ports: [("pg", 5432)])
        let cache = pod("cache", ns: "cache", node: "n2", ip: "10.42.1.8", labels: ["app": "db"], ports: [("pg", 6379)])
        let namespaces: [JSONValue] = [["metadata": ["name": "data", "labels": ["tier": "backend"]]], ["metadata": ["name": "cache"]]]
        let egress = policy("out", ["podSelector": ["matchLabels": ["role": "client"]], "policyTypes": ["Egress"], "egress": [[
            "to": [["namespaceSelector": ["matchLabels": ["tier": "backend"]], "podSelector": ["matchLabels": ["app": "db"]]],
                   ["namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": "cache"]]]],
            "ports": [["protocol": "TCP", "port": "pg"]],
        ]]])
        let set = rules.render(policies: [egress], pods: [client, db, cache], namespaces: namespaces)
        let out = chain(set, "E", "client") ?? []
        #expect(out.contains("-m comment --comment \"default/out\" -d 10.42.1.7/32 -p tcp -m tcp --dport 5432 -j RETURN"), "the peer's own named port")
        #expect(out.contains("-m comment --comment \"default/out\" -d 10.42.1.8/32 -p tcp -m tcp --dport 6379 -j RETURN"), "namespaces by their name label")
        #expect(chain(set, "I", "client") == nil, "policyTypes [Egress] leaves ingress open")
        let ingressOnly = rules.render(policies: [policy("none", ["podSelector": [:], "egress": []])], pods: [client], namespaces: [])
        #expect(chain(ingressOnly, "I", "client")?.count == 3 && chain(ingressOnly, "E", "client") == nil,
                "egress: [] without policyTypes isolates ingress only (upstream's default: Egress when there are egress rules)")
        let both = rules.render(policies: [policy("both", ["podSelector": [:], "policyTypes": ["Ingress", "Egress"]])], pods: [client], namespaces: [])
        #expect(chain(both, "E", "client")?.count == 3 && chain(both, "I", "client")?.count == 3, "default deny both ways")
    }

    @Test func peersSelectedOnceServeEveryPodAPolicySelects() {
        let webs = [pod("web-1", ip: "10.42.0.2", labels: ["app": "web"], ports: [("http", 8080)]),
                    pod("web-2", ip: "10.42.0.3", labels: ["app": "web"], ports: [("http", 9090)])]
        let client = pod("client", node: "n2", ip: "10.42.1.5", labels: ["role": "client"])
        let allow = policy("allow", ["podSelector": ["matchLabels": ["app": "web"]], "ingress": [[
            "from": [["podSelector": ["matchLabels": ["role": "client"]]]], "ports": [["protocol": "TCP", "port": "http"]],
        ]]])
        let set = rules.render(policies: [allow], pods: webs + [client], namespaces: [])
        #expect(chain(set, "I", "web-1")?.contains { $0.contains("-s 10.42.1.5/32 -p tcp -m tcp --dport 8080 -j RETURN") } == true)
        #expect(chain(set, "I", "web-2")?.contains { $0.contains("-s 10.42.1.5/32 -p tcp -m tcp --dport 9090 -j RETURN") } == true,
                "the shared peer selection, each pod's own named port")
    }
}
