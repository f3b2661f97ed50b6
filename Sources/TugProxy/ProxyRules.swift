/// Renders the iptables rules for a set of Service ports, kube-proxy's iptables mode in shape:
///
/// - nat `SERVICES` sends each cluster IP and port to the port's `SVC` chain; `NODEPORTS` (for local destination
///   addresses: the node's addresses and 127.0.0.1) sends node ports and LoadBalancer ports to its `EXT` chain,
///   which marks the packet for masquerading first.
/// - `SVC` picks an endpoint at random (`statistic`, probability 1/n, 1/(n-1), …), or the client's previous
///   endpoint under ClientIP affinity (`recent`); each endpoint's `SEP` chain DNATs to it and marks hairpin traffic
///   (an endpoint reaching itself) for masquerading, so the reply comes back through the bridge.
/// - Traffic to a cluster IP from outside the cluster's pod range and not from this node is masqueraded too.
/// - filter rejects connections to ports without endpoints at once instead of letting them time out.
public struct ProxyRules: Sendable {
    public let names: ChainNames
    /// The cluster's pod range: traffic from elsewhere to a Service is masqueraded.
    public let clusterCIDR: String
    public static let masqueradeMark = "0x4000"

    public init(names: ChainNames, clusterCIDR: String) {
        self.names = names
        self.clusterCIDR = clusterCIDR
    }

    /// The rules for `ports`.
    public func render(_ ports: [ServicePort]) -> RuleSet {
        var nat = RuleSet.Table()
        var filter = RuleSet.Table()
        base(nat: &nat, filter: &filter)
        for port in ports.sorted(by: { ($0.id, $0.proto) < ($1.id, $1.proto) }) {
            if port.endpoints.isEmpty {
                reject(port, filter: &filter)
            } else {
                serve(port, nat: &nat)
            }
        }
        var rules = RuleSet()
        rules.tables = ["nat": nat, "filter": filter]
        return rules
    }

    /// No rules at all: what `tug reset` applies to remove this instance's chains and jumps.
    public static var empty: RuleSet {
        var rules = RuleSet()
        rules.tables = ["nat": .init(), "filter": .init()]
        return rules
    }

    func base(nat: inout RuleSet.Table, filter: inout RuleSet.Table) {
        for chain in [names.services, names.nodePorts, names.postrouting, names.markMasq] { nat.declare(chain) }
        nat.unordered = [names.services, names.nodePorts]
        let portals = "-m comment --comment \"tug service portals\" -j \(names.services)"
        let nodePorts = "-m addrtype --dst-type LOCAL -m comment --comment \"tug node ports\" -j \(names.nodePorts)"
        nat.jumps = [.init(from: "PREROUTING", rule: portals), .init(from: "PREROUTING", rule: nodePorts),
                     .init(from: "OUTPUT", rule: portals), .init(from: "OUTPUT", rule: nodePorts),
                     .init(from: "POSTROUTING", rule: "-m comment --comment \"tug postrouting rules\" -j \(names.postrouting)")]
        nat.append(names.markMasq, "-j MARK --or-mark \(Self.masqueradeMark)")
        nat.append(names.postrouting, "-m mark ! --mark \(Self.masqueradeMark)/\(Self.masqueradeMark) -j RETURN")
        nat.append(names.postrouting, "-j MARK --xor-mark \(Self.masqueradeMark)")
        nat.append(names.postrouting, "-m comment --comment \"tug service traffic requiring SNAT\" -j MASQUERADE --random-fully")

        for chain in [names.services, names.external, names.forward] { filter.declare(chain) }
        filter.unordered = [names.services, names.external]
        let newServices = "-m conntrack --ctstate NEW -m comment --comment \"tug service portals\" -j \(names.services)"
        let newExternal = "-m conntrack --ctstate NEW -m comment --comment \"tug external services\" -j \(names.external)"
        filter.jumps = [.init(from: "OUTPUT", rule: newServices), .init(from: "OUTPUT", rule: newExternal),
                        .init(from: "FORWARD", rule: newServices), .init(from: "INPUT", rule: newExternal),
                        .init(from: "FORWARD", rule: "-m comment --comment \"tug forwarding rules\" -j \(names.forward)")]
        filter.append(names.forward, "-m mark --mark \(Self.masqueradeMark)/\(Self.masqueradeMark) -j ACCEPT")
        filter.append(names.forward, "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    }

    func match(_ port: ServicePort, destinationPort: Int) -> String {
        "-p \(port.proto) -m \(port.proto) --dport \(destinationPort)"
    }

    func comment(_ port: ServicePort, _ what: String) -> String { "-m comment --comment \"\(port.id) \(what)\"" }

    func serve(_ port: ServicePort, nat: inout RuleSet.Table) {
        let svc = names.service(port)
        nat.declare(svc)
        for ip in port.clusterIPs {
            nat.append(names.services, "-d \(ip)/32 \(comment(port, "cluster IP")) \(match(port, destinationPort: port.port)) -j \(svc)")
        }
        if port.nodePort != nil || port.loadBalancer {
            let ext = names.externalService(port)
            nat.append(ext, "-j \(names.markMasq)")
            nat.append(ext, "-j \(svc)")
            if let nodePort = port.nodePort {
                nat.append(names.nodePorts, "\(comment(port, "node port")) \(match(port, destinationPort: nodePort)) -j \(ext)")
            }
            if port.loadBalancer {
                nat.append(names.nodePorts, "\(comment(port, "load balancer")) \(match(port, destinationPort: port.port)) -j \(ext)")
            }
        }
        // Off-cluster clients are masqueraded so replies come back through this node; the node's own processes are
        // not (a reply to a local address returns here anyway), which keeps their source ports: masquerading many
        // short connections onto one address makes new SYNs collide with the backend's TIME_WAIT entries.
        nat.append(svc, "! -s \(clusterCIDR) -m addrtype ! --src-type LOCAL -j \(names.markMasq)")
        let endpoints = port.endpoints.map { (endpoint: $0, chain: names.endpoint(port, $0)) }
        if let seconds = port.affinitySeconds {
            for (_, chain) in endpoints {
                nat.append(svc, "-m recent --name \(chain) --mask 255.255.255.255 --rsource --rcheck --seconds \(seconds) --reap -j \(chain)")
            }
        }
        for (index, entry) in endpoints.enumerated() {
            let remaining = endpoints.count - index
            if remaining > 1 {
                nat.append(svc, "-m statistic --mode random --probability \(Self.probability(1, remaining)) -j \(entry.chain)")
            } else {
                nat.append(svc, "-j \(entry.chain)")
            }
            nat.append(entry.chain, "-s \(entry.endpoint.ip)/32 -j \(names.markMasq)")
            let affinity = port.affinitySeconds == nil ? "" : "-m recent --set --name \(entry.chain) --mask 255.255.255.255 --rsource "
            nat.append(entry.chain, "-p \(port.proto) \(affinity)-m \(port.proto) -j DNAT --to-destination \(entry.endpoint.ip):\(entry.endpoint.port)")
        }
    }

    func reject(_ port: ServicePort, filter: inout RuleSet.Table) {
        for ip in port.clusterIPs {
            filter.append(names.services, "-d \(ip)/32 \(comment(port, "has no endpoints")) \(match(port, destinationPort: port.port)) -j REJECT --reject-with icmp-port-unreachable")
        }
        var external: [Int] = []
        if let nodePort = port.nodePort { external.append(nodePort) }
        if port.loadBalancer { external.append(port.port) }
        for number in external {
            filter.append(names.external, "-m addrtype --dst-type LOCAL \(comment(port, "has no endpoints")) \(match(port, destinationPort: number)) -j REJECT --reject-with icmp-port-unreachable")
        }
    }

    /// `1/n` with ten decimals, as kube-proxy writes it.
    static func probability(_ numerator: Int, _ denominator: Int) -> String {
        let scaled = (Int64(numerator) * 10_000_000_000 + Int64(denominator) / 2) / Int64(denominator)
        let whole = scaled / 10_000_000_000
        let fraction = String(scaled % 10_000_000_000).leftPadded(10)
        return "\(whole).\(fraction)"
    }
}
