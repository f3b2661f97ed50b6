public import TugAPIMachinery

/// Reading a Service's EndpointSlices as the data plane needs them (the proxy's rules, the ingress's backends, the
/// DNS zone): one reading, so they agree on which endpoints serve.
public enum EndpointSliceReading {
    public static let serviceLabel = "kubernetes.io/service-name"

    /// One endpoint of one slice port.
    public struct Address: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var ip: String
        public var port: Int

        public init(ip: String, port: Int) {
            self.ip = ip
            self.port = port
        }

        public static func < (a: Address, b: Address) -> Bool { (a.ip, a.port) < (b.ip, b.port) }
        public var description: String { "\(ip):\(port)" }
    }

    /// `namespace/service` of the Service a slice belongs to (its `kubernetes.io/service-name` label).
    public static func serviceKey(_ slice: JSONValue) -> String? {
        slice.labels[serviceLabel].map { "\(slice.namespace)/\($0)" }
    }

    /// Slices grouped by `serviceKey`.
    public static func byService(_ slices: [JSONValue]) -> [String: [JSONValue]] {
        var result: [String: [JSONValue]] = [:]
        for slice in slices {
            if let key = serviceKey(slice) { result[key, default: []].append(slice) }
        }
        return result
    }

    /// The IPv4 endpoints of the slice port called `portName` with protocol `proto` (lowercase), deduplicated
    /// across slices and sorted: the ready ones (a missing `ready` counts as ready, as the API documents); with none
    /// ready, those still serving while they terminate, as kube-proxy falls back to them, so a rollout's last old
    /// pods keep answering until the new ones are ready.
    public static func addresses(port portName: String, proto: String, in slices: [JSONValue]) -> [Address] {
        var ready = Set<Address>()
        var terminating = Set<Address>()
        for slice in slices where slice["addressType"].stringValue == "IPv4" {
            guard let port = (slice["ports"].arrayValue ?? []).first(where: {
                ($0["name"].stringValue ?? "") == portName && ($0["protocol"].stringValue ?? "TCP").lowercased() == proto
            }), let number = port["port"].intValue else { continue }
            for endpoint in slice["endpoints"].arrayValue ?? [] {
                guard let ip = endpoint["addresses"][0].stringValue else { continue }
                let conditions = endpoint["conditions"]
                if conditions["ready"].boolValue != false {
                    ready.insert(Address(ip: ip, port: Int(number)))
                } else if conditions["serving"].boolValue == true, conditions["terminating"].boolValue == true {
                    terminating.insert(Address(ip: ip, port: Int(number)))
                }
            }
        }
        return (ready.isEmpty ? terminating : ready).sorted()
    }
}
