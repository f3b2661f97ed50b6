import Synchronization
import TugAPI
import TugAPIMachinery
import TugAuth

/// Allocation of Service cluster IPs (from the service network, 10.43.0.0/16 by default, as k3s) and node ports
/// (30000–32767), seeded from stored services.
final class ServiceAllocator: AdmissionPlugin {
    struct Allocations {
        var loaded = false
        var clusterIPs = Set<UInt32>()
        var nodePorts = Set<Int64>()
    }

    let allocations = Mutex(Allocations())
    let network: ServiceNetwork
    static let nodePortRange: ClosedRange<Int64> = 30000...32767

    init(network: ServiceNetwork = .default) { self.network = network }

    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?, user: UserInfo?) throws(StatusError) {
        load(store)
        let type = object["spec"]["type"].stringValue ?? "ClusterIP"
        if type == "ExternalName" { return }
        try allocations.withLock { (a: inout Allocations) throws(StatusError) in
            let requested = object["spec"]["clusterIP"].stringValue ?? ""
            if requested != "None" {
                if requested.isEmpty {
                    guard let ip = freeIP(a) else { throw StatusError.internalError("failed to allocate a serviceIP: range is full") }
                    if !dryRun { a.clusterIPs.insert(ip) }
                    object["spec"]["clusterIP"] = .string(Self.format(ip))
                } else if old?["spec"]["clusterIP"].stringValue != requested {
                    guard let ip = Self.parse(requested), network.contains(ip) else {
                        throw StatusError.invalid(kind: d.kind, group: "", name: object.name, errors: FieldErrorList([FieldError(.invalid, field: "spec.clusterIPs", value: .string(requested), detail: "failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(network)")]))
                    }
                    if a.clusterIPs.contains(ip) {
                        throw StatusError.invalid(kind: d.kind, group: "", name: object.name, errors: FieldErrorList([FieldError(.invalid, field: "spec.clusterIPs", value: .string(requested), detail: "failed to allocate IP \(requested): provided IP is already allocated")]))
                    }
                    if !dryRun { a.clusterIPs.insert(ip) }
                }
                object["spec"]["clusterIPs"] = [object["spec"]["clusterIP"]]
            } else {
                object["spec"]["clusterIPs"] = ["None"]
            }
            guard type == "NodePort" || type == "LoadBalancer", case .array(var ports) = object["spec"]["ports"] else { return }
            let previous = Set((old?["spec"]["ports"].arrayValue ?? []).compactMap { $0["nodePort"].intValue })
            for i in ports.indices {
                if let np = ports[i]["nodePort"].intValue, np != 0 {
                    if !previous.contains(np) {
                        if a.nodePorts.contains(np) {
                            throw StatusError.invalid(kind: d.kind, group: "", name: object.name, errors: FieldErrorList([FieldError(.invalid, field: "spec.ports[\(i)].nodePort", value: .int(np), detail: "provided port is already allocated")]))
                        }
                        if !dryRun { a.nodePorts.insert(np) }
                    }
                    continue
                }
                guard let port = Self.nodePortRange.first(where: { !a.nodePorts.contains($0) }) else {
                    throw StatusError.internalError("failed to allocate a nodePort: range is full")
                }
                if !dryRun { a.nodePorts.insert(port) }
                ports[i]["nodePort"] = .int(port)
            }
            object["spec"]["ports"] = .array(ports)
        }
    }

    func release(_ object: JSONValue) {
        allocations.withLock { a in
            if let ip = object["spec"]["clusterIP"].stringValue.flatMap(Self.parse) { a.clusterIPs.remove(ip) }
            for p in object["spec"]["ports"].arrayValue ?? [] { if let np = p["nodePort"].intValue { a.nodePorts.remove(np) } }
        }
    }

    /// Seeds the allocation maps from stored services on first use.
    func load(_ store: ObjectStore) {
        guard !allocations.withLock({ $0.loaded }), let d = store.definition(group: "", resource: "services") else { return }
        let services = store.backend.list(prefix: StorageKeys.prefix(d, namespace: nil)).items.compactMap { try? store.decode($0) }
        allocations.withLock { a in
            guard !a.loaded else { return }
            a.loaded = true
            for svc in services {
                if let ip = svc["spec"]["clusterIP"].stringValue.flatMap(Self.parse) { a.clusterIPs.insert(ip) }
                for p in svc["spec"]["ports"].arrayValue ?? [] { if let np = p["nodePort"].intValue { a.nodePorts.insert(np) } }
            }
        }
    }

    func freeIP(_ a: Allocations) -> UInt32? {
        // The network address and the last one are skipped; the first ten (kubernetes at 1, DNS at 10) are handed
        // out only when everything else is taken or when asked for.
        for offset in UInt32(11)..<(network.size - 1) where !a.clusterIPs.contains(network.address(offset)) { return network.address(offset) }
        for offset in UInt32(1)...10 where !a.clusterIPs.contains(network.address(offset)) { return network.address(offset) }
        return nil
    }

    static func parse(_ s: String) -> UInt32? { ServiceNetwork.parse(s) }

    static func format(_ ip: UInt32) -> String { ServiceNetwork.format(ip) }
}
