public import TugDNSWire
import TugAPIMachinery
import TugControllerRuntime

/// The records of the cluster domain, as CoreDNS's kubernetes plugin serves them, built from Services and their
/// EndpointSlices:
///
/// - `svc.ns.svc.cluster.local`: A/AAAA of the cluster IPs; for a headless Service, of its ready endpoints; for an
///   ExternalName Service, a CNAME.
/// - `host.svc.ns.svc.cluster.local` for a headless Service's endpoints (their hostname, e.g. StatefulSet pods, or
///   the address with dashes).
/// - `_port._proto.svc.ns.svc.cluster.local`: SRV of each named port.
/// - PTR of cluster IPs and of headless endpoints; `a-b-c-d.ns.pod.cluster.local` answers its own address.
///
/// An immutable value rebuilt on change; lookups are dictionary reads.
public struct ClusterZone: Sendable {
    public enum Answer: Sendable, Equatable {
        case records([DNSMessage.Record], additional: [DNSMessage.Record])
        /// The name exists, with no record of the type asked.
        case noData
        case nameError
        /// Not a name of this zone: the host's resolvers answer it.
        case notInZone
    }

    public let domain: String
    public let ttl: UInt32
    var records: [String: [DNSMessage.RecordData]] = [:]
    /// Every name that exists, empty non-terminals (`ns.svc.cluster.local`) included.
    var names: Set<String> = []

    public init(domain: String = "cluster.local", ttl: UInt32 = 5) {
        self.domain = domain
        self.ttl = ttl
        add(domain, nil)
    }

    /// The zone of `services` with their `slices` (EndpointSlices, matched by the `kubernetes.io/service-name` label).
    public init(domain: String = "cluster.local", ttl: UInt32 = 5, services: [JSONValue], slices: [JSONValue]) {
        self.init(domain: domain, ttl: ttl)
        let slicesByService = EndpointSliceReading.byService(slices)
        for service in services {
            addService(service, slices: slicesByService["\(service.namespace)/\(service.name)"] ?? [])
        }
    }

    public var recordCount: Int { records.values.reduce(0) { $0 + $1.count } }

    mutating func add(_ name: String, _ data: DNSMessage.RecordData?) {
        if let data { records[name, default: []].append(data) }
        var current = Substring(name)
        while names.insert(String(current)).inserted, let dot = current.firstIndex(of: ".") {
            current = current[current.index(after: dot)...]
        }
    }

    mutating func addService(_ service: JSONValue, slices: [JSONValue]) {
        let spec = service["spec"]
        let base = "\(service.name).\(service.namespace).svc.\(domain)"
        if spec["type"].stringValue == "ExternalName" {
            if let target = spec["externalName"].stringValue { add(base, .cname(target.lowercased().trimmingSuffix("."))) }
            return
        }
        let clusterIPs = spec["clusterIPs"].arrayValue?.compactMap(\.stringValue) ?? [spec["clusterIP"].stringValue].compactMap { $0 }
        let ports = (spec["ports"].arrayValue ?? []).compactMap { port -> (name: String, proto: String, port: UInt16)? in
            guard let name = port["name"].stringValue, !name.isEmpty, let number = port["port"].intValue else { return nil }
            return (name, (port["protocol"].stringValue ?? "TCP").lowercased(), UInt16(clamping: number))
        }
        if clusterIPs.first == "None" || clusterIPs.isEmpty {
            addHeadless(base, service: service, slices: slices)
            return
        }
        for ip in clusterIPs {
            guard let data = Self.addressRecord(ip) else { continue }
            add(base, data)
            add(Self.reverseName(ip), .ptr(base))
        }
        for port in ports {
            add("_\(port.name)._\(port.proto).\(base)", .srv(priority: 0, weight: 100, port: port.port, target: base))
        }
        if clusterIPs.isEmpty { add(base, nil) }
    }

    mutating func addHeadless(_ base: String, service: JSONValue, slices: [JSONValue]) {
        add(base, nil)
        let publishNotReady = service["spec"]["publishNotReadyAddresses"].boolValue == true
        for slice in slices {
            let ports = (slice["ports"].arrayValue ?? []).compactMap { port -> (name: String, proto: String, port: UInt16)? in
                guard let name = port["name"].stringValue, !name.isEmpty, let number = port["port"].intValue else { return nil }
                return (name, (port["protocol"].stringValue ?? "TCP").lowercased(), UInt16(clamping: number))
            }
            for endpoint in slice["endpoints"].arrayValue ?? [] {
                guard publishNotReady || endpoint["conditions"]["ready"].boolValue != false else { continue }
                for ip in endpoint["addresses"].arrayValue?.compactMap(\.stringValue) ?? [] {
                    guard let data = Self.addressRecord(ip) else { continue }
                    let host = (endpoint["hostname"].stringValue ?? ip.replacing(".", with: "-").replacing(":", with: "-")).lowercased()
                    let name = "\(host).\(base)"
                    add(base, data)
                    add(name, data)
                    if endpoint["hostname"].stringValue != nil { add(Self.reverseName(ip), .ptr(name)) }
                    for port in ports {
                        add("_\(port.name)._\(port.proto).\(base)", .srv(priority: 0, weight: 100, port: port.port, target: name))
                    }
                }
            }
        }
    }

    /// The answer to `question` (class IN).
    public func answer(_ question: DNSMessage.Question) -> Answer {
        let name = question.name
        let inReverse = name.hasSuffix(".in-addr.arpa") || name.hasSuffix(".ip6.arpa")
        guard name == domain || name.hasSuffix("." + domain) || (inReverse && records[name] != nil) else { return .notInZone }
        if let podAddress = podAddress(name) {
            return question.type == DNSMessage.RecordType.a.rawValue || question.type == DNSMessage.RecordType.any.rawValue
                ? .records([.init(name: name, ttl: ttl, data: .a(podAddress))], additional: []) : .noData
        }
        guard names.contains(name) else { return .nameError }
        let all = records[name] ?? []
        let matching: [DNSMessage.RecordData]
        if let cname = all.first(where: { if case .cname = $0 { true } else { false } }) {
            matching = [cname]
        } else if question.type == DNSMessage.RecordType.any.rawValue {
            matching = all
        } else {
            matching = all.filter { $0.type.rawValue == question.type }
        }
        guard !matching.isEmpty else { return .noData }
        var additional: [DNSMessage.Record] = []
        for case .srv(_, _, _, let target) in matching {
            for data in records[target] ?? [] where data.type == .a || data.type == .aaaa {
                additional.append(.init(name: target, ttl: ttl, data: data))
            }
        }
        return .records(matching.map { .init(name: name, ttl: ttl, data: $0) }, additional: additional)
    }

    /// The SOA sent with negative answers (its minimum is the negative-caching time).
    public var soa: DNSMessage.Record {
        .init(name: domain, ttl: ttl, data: .soa(mname: "ns.dns.\(domain)", rname: "hostmaster.\(domain)", serial: 1, refresh: 7200,
                                                 retry: 1800, expire: 86400, minimum: ttl))
    }

    /// `a-b-c-d.<ns>.pod.<domain>` → a.b.c.d.
    func podAddress(_ name: String) -> [UInt8]? {
        let labels = name.dropLast(domain.count + 1).split(separator: ".")
        guard labels.count == 3, labels[2] == "pod" else { return nil }
        let parts = labels[0].split(separator: "-", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        return parts.count == 4 && labels[0].split(separator: "-", omittingEmptySubsequences: false).count == 4 ? parts : nil
    }

    static func addressRecord(_ ip: String) -> DNSMessage.RecordData? {
        if let v4 = IPAddress.v4(ip) { return .a(v4) }
        if let v6 = IPAddress.v6(ip) { return .aaaa(v6) }
        return nil
    }

    /// `10.43.0.1` → `1.0.43.10.in-addr.arpa`; IPv6 by nibbles under ip6.arpa.
    static func reverseName(_ ip: String) -> String {
        if let v4 = IPAddress.v4(ip) { return v4.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa" }
        if let v6 = IPAddress.v6(ip) {
            return v6.reversed().flatMap { [String($0 & 0xF, radix: 16), String($0 >> 4, radix: 16)] }.joined(separator: ".") + ".ip6.arpa"
        }
        return ip
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
