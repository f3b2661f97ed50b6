public import TugAPIMachinery
public import TugControllerRuntime

/// One port of one Service as the proxy programs it: where it answers (cluster IP, node port, load-balancer port)
/// and the endpoints it balances over. Built from a Service and its EndpointSlices; a pure value, so rules can be
/// rendered and diffed without a cluster.
public struct ServicePort: Sendable, Hashable {
    public typealias Endpoint = EndpointSliceReading.Address

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
                endpoints: EndpointSliceReading.addresses(port: portName, proto: proto, in: slices))
        }
    }
}
