import TugAPIMachinery

/// One port of one Service as the proxy programs it: where it answers (cluster IP, node port, load-balancer port)
/// and the endpoints it balances over. Built from a Service and its EndpointSlices; a pure value, so rules can be
/// rendered and diffed without a cluster.
public struct ServicePort: Sendable, Hashable {
    public struct Endpoint: Sendable, Hashable, Comparable {
        public var ip: String
        public var port: Int

        public init(ip: String, port: Int) {
            self.ip = ip
            self.port = port
        }

        public static func < (a: Endpoint, b: Endpoint) -> Bool { (a.ip, a.port) < (b.ip, b.port) }
        public var description: String { "\(ip):\(port)" }
    }

    public var namespace: String
    public var name: String
    public var portName: String
    /// `tcp`, `udp` or `sctp`, as iptables spells them.
    public var proto: String
    public var clusterIPs: [String]
    public var port: Int
    public var nodePort: Int?
    /// A LoadBalancer Service answers on its port on every node address (k3s's servicelb).
    public var loadBalancer: Bool
    /// `sessionAffinity: ClientIP`: how long a client sticks to its endpoint.
    public var affinitySeconds: Int?
    /// Ready endpoints, sorted.
    public var endpoints: [Endpoint]

    public init(namespace: String, name: String, portName: String, proto: String, clusterIPs: [String], port: Int,
                nodePort: Int? = nil, loadBalancer: Bool = false, affinitySeconds: Int? = nil, endpoints: [Endpoint]) {
        self.namespace = namespace
        self.name = name
        self.portName = portName
        self.proto = proto
        self.clusterIPs = clusterIPs
        self.port = port
        self.nodePort = nodePort
        self.loadBalancer = loadBalancer
        self.affinitySeconds = affinitySeconds
        self.endpoints = endpoints
    }

    /// `ns/name:port` (kube's ServicePortName), the identity chain names are derived from.
    public var id: String { "\(namespace)/\(name)\(portName.isEmpty ? "" : ":\(portName)")" }

    /// The ports of `service` the proxy programs, with endpoints from `slices` (the Service's EndpointSlices).
    /// ExternalName and headless Services have none: DNS alone serves them.
    public static func ports(of service: JSONValue, slices: [JSONValue]) -> [ServicePort] {
        let spec = service["spec"]
        guard spec["type"].stringValue != "ExternalName" else { return [] }
        let ips = ((spec["clusterIPs"].arrayValue?.compactMap(\.stringValue)) ?? [spec["clusterIP"].stringValue].compactMap { $0 })
            .filter { $0 != "None" && !$0.isEmpty && !$0.contains(":") }
        guard !ips.isEmpty else { return [] }
        let type = spec["type"].stringValue ?? "ClusterIP"
        let affinity = spec["sessionAffinity"].stringValue == "ClientIP"
            ? Int(spec["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"].intValue ?? 10800) : nil
        return (spec["ports"].arrayValue ?? []).compactMap { port -> ServicePort? in
            guard let number = port["port"].intValue else { return nil }
            let portName = port["name"].stringValue ?? ""
            let proto = (port["protocol"].stringValue ?? "TCP").lowercased()
            return ServicePort(
                namespace: service.namespace, name: service.name, portName: portName, proto: proto, clusterIPs: ips, port: Int(number),
                nodePort: type == "NodePort" || type == "LoadBalancer" ? port["nodePort"].intValue.map(Int.init) : nil,
                loadBalancer: type == "LoadBalancer", affinitySeconds: affinity,
                endpoints: endpoints(named: portName, proto: proto, in: slices))
        }
    }

    /// The ready IPv4 endpoints of the slice port called `portName` (a missing `ready` counts as ready, as the API
    /// documents), deduplicated across slices. With none ready, the ones still serving while they terminate, as
    /// kube-proxy falls back to them, so a rollout's last old pods keep answering until the new ones are ready.
    static func endpoints(named portName: String, proto: String, in slices: [JSONValue]) -> [Endpoint] {
        var ready = Set<Endpoint>()
        var terminating = Set<Endpoint>()
        for slice in slices where slice["addressType"].stringValue == "IPv4" {
            guard let port = (slice["ports"].arrayValue ?? []).first(where: {
                ($0["name"].stringValue ?? "") == portName && ($0["protocol"].stringValue ?? "TCP").lowercased() == proto
            }), let number = port["port"].intValue else { continue }
            for endpoint in slice["endpoints"].arrayValue ?? [] {
                guard let ip = endpoint["addresses"][0].stringValue else { continue }
                let conditions = endpoint["conditions"]
                if conditions["ready"].boolValue != false {
                    ready.insert(Endpoint(ip: ip, port: Int(number)))
                } else if conditions["serving"].boolValue == true, conditions["terminating"].boolValue == true {
                    terminating.insert(Endpoint(ip: ip, port: Int(number)))
                }
            }
        }
        return (ready.isEmpty ? terminating : ready).sorted()
    }
}
