public import Foundation
public import TugAPIMachinery

public struct ServiceStrategy: ResourceStrategy {
    public init() {}
    static let types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]

    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.setIfAbsent(&object["spec"], "type", "ClusterIP")
        PodDefaults.setIfAbsent(&object["spec"], "sessionAffinity", "None")
        let type = object["spec"]["type"].stringValue ?? "ClusterIP"
        if type != "ExternalName" {
            PodDefaults.setIfAbsent(&object["spec"], "ipFamilies", ["IPv4"])
            PodDefaults.setIfAbsent(&object["spec"], "ipFamilyPolicy", "SingleStack")
            PodDefaults.setIfAbsent(&object["spec"], "internalTrafficPolicy", "Cluster")
        }
        if type == "NodePort" || type == "LoadBalancer" { PodDefaults.setIfAbsent(&object["spec"], "externalTrafficPolicy", "Cluster") }
        if type == "LoadBalancer" { PodDefaults.setIfAbsent(&object["spec"], "allocateLoadBalancerNodePorts", true) }
        if case .array(var ports) = object["spec"]["ports"] {
            for i in ports.indices {
                PodDefaults.setIfAbsent(&ports[i], "protocol", "TCP")
                if ports[i]["targetPort"].isNull, let port = ports[i]["port"].intValue { ports[i]["targetPort"] = .int(port) }
            }
            object["spec"]["ports"] = .array(ports)
        }
    }

    public func prepareForCreate(_ object: inout JSONValue) {
        object["status"] = ["loadBalancer": .emptyObject]
    }

    /// Service names become DNS labels: DNS-1035 (must start with a letter).
    public func nameErrors(_ name: String) -> [String] {
        NameValidation.isDNS1035Label(name) ? [] : [NameValidation.dns1035LabelMessage]
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let spec = object["spec"]
        let type = spec["type"].stringValue ?? "ClusterIP"
        if !Self.types.contains(type) { errors.append(FieldError(.notSupported(Self.types), field: "spec.type", value: .string(type))) }
        let ports = spec["ports"].arrayValue ?? []
        if type != "ExternalName", ports.isEmpty, spec["clusterIP"].stringValue != "None" { errors.required("spec.ports") }
        if type == "ExternalName", (spec["externalName"].stringValue ?? "").isEmpty { errors.required("spec.externalName") }
        var seenPorts = Set<String>(), seenNames = Set<String>()
        for (i, port) in ports.enumerated() {
            let p = port["port"].intValue ?? 0
            if !(1...65535).contains(p) { errors.invalid("spec.ports[\(i)].port", .int(p), "must be between 1 and 65535, inclusive") }
            let proto = port["protocol"].stringValue ?? "TCP"
            if !seenPorts.insert("\(p)/\(proto)").inserted {
                errors.append(FieldError(.duplicate, field: "spec.ports[\(i)]", value: ["port": .int(p), "protocol": .string(proto)]))
            }
            let name = port["name"].stringValue ?? ""
            if ports.count > 1, name.isEmpty { errors.required("spec.ports[\(i)].name") }
            if !name.isEmpty, !seenNames.insert(name).inserted { errors.append(FieldError(.duplicate, field: "spec.ports[\(i)].name", value: .string(name))) }
            if let np = port["nodePort"].intValue, np != 0 {
                if type == "ClusterIP" { errors.append(FieldError(.forbidden, field: "spec.ports[\(i)].nodePort", detail: "may not be used when `type` is 'ClusterIP'")) }
                else if !(30000...32767).contains(np) { errors.invalid("spec.ports[\(i)].nodePort", .int(np), "provided port is not in the valid range. The range of valid ports is 30000-32767") }
            }
        }
        return errors
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        if let oldIP = old["spec"]["clusterIP"].stringValue, !oldIP.isEmpty, let newIP = object["spec"]["clusterIP"].stringValue, newIP != oldIP,
           object["spec"]["type"] != "ExternalName" {
            errors.invalid("spec.clusterIPs[0]", .string(newIP), "may not change once set")
        }
        return errors
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Type", description: "type determines how the Service is exposed."),
         TableColumn("Cluster-IP", description: "clusterIP is the IP address of the service and is usually assigned randomly."),
         TableColumn("External-IP", description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
         TableColumn("Port(s)", description: "The list of ports that are exposed by this service."), .age,
         TableColumn("Selector", description: "Route service traffic to pods with label keys and values matching this selector.", priority: 1)]
    }

    public func cells(_ svc: JSONValue, now: Date) -> [JSONValue] {
        let spec = svc["spec"]
        let type = spec["type"].stringValue ?? "ClusterIP"
        var external = spec["externalIPs"].arrayValue?.compactMap(\.stringValue) ?? []
        if type == "LoadBalancer" {
            let ingress = (svc["status"]["loadBalancer"]["ingress"].arrayValue ?? []).compactMap { $0["ip"].stringValue ?? $0["hostname"].stringValue }
            external = ingress + external
        }
        let externalCell: String
        switch type {
        case "ExternalName": externalCell = spec["externalName"].stringValue ?? "<none>"
        case "LoadBalancer": externalCell = external.isEmpty ? "<pending>" : external.joined(separator: ",")
        default: externalCell = external.isEmpty ? "<none>" : external.joined(separator: ",")
        }
        let ports = (spec["ports"].arrayValue ?? []).map { p -> String in
            let proto = p["protocol"].stringValue ?? "TCP"
            if let np = p["nodePort"].intValue, np != 0 { return "\(p["port"].intValue ?? 0):\(np)/\(proto)" }
            return "\(p["port"].intValue ?? 0)/\(proto)"
        }
        let selector = spec["selector"].stringMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return [.string(svc.name), .string(type), .string(spec["clusterIP"].stringValue ?? "<none>"), .string(externalCell),
                .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), TableColumn.age(svc, now: now),
                .string(selector.isEmpty ? "<none>" : selector)]
    }
}
