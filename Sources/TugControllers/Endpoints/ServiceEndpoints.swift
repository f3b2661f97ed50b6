public import TugAPIMachinery
public import TugControllerRuntime

/// Which pods back a Service and on which ports (shared by the EndpointSlice and Endpoints controllers): the pods its
/// selector matches that have an IP and are not finished, each with its readiness and the Service's ports resolved
/// against the pod (a named targetPort is looked up among the pod's container ports).
public enum ServiceEndpoints {
    public struct Port: Hashable, Sendable {
        public var name: String
        public var port: Int64
        public var proto: String
        public var appProtocol: String?
    }

    public struct Backend: Sendable {
        public var pod: JSONValue
        public var ip: String
        public var ready: Bool
        public var terminating: Bool
        public var ports: [Port]
    }

    /// The Service's ports as `pod` serves them; a named port the pod lacks is left out (as kube does).
    public static func resolve(_ service: JSONValue, for pod: JSONValue) -> [Port] {
        (service["spec"]["ports"].arrayValue ?? []).compactMap { servicePort in
            let proto = servicePort["protocol"].stringValue ?? "TCP"
            let target = servicePort["targetPort"]
            let number: Int64?
            if let name = target.stringValue, Int64(name) == nil {
                number = (pod["spec"]["containers"].arrayValue ?? []).lazy.flatMap { $0["ports"].arrayValue ?? [] }
                    .first { $0["name"].stringValue == name && ($0["protocol"].stringValue ?? "TCP") == proto }?["containerPort"].intValue
            } else {
                number = target.intValue ?? target.stringValue.flatMap { Int64($0) } ?? servicePort["port"].intValue
            }
            guard let number else { return nil }
            return Port(name: servicePort["name"].stringValue ?? "", port: number, proto: proto,
                        appProtocol: servicePort["appProtocol"].stringValue)
        }
    }

    /// The Service's backends among `pods` (all of its namespace), in a stable order; nil for a Service without a
    /// selector (its endpoints are the user's to write).
    public static func backends(_ service: JSONValue, pods: [JSONValue]) -> [Backend]? {
        guard case .object(let fields) = service["spec"]["selector"], !fields.isEmpty else { return nil }
        let selector = service["spec"]["selector"].stringMap
        let publishNotReady = service["spec"]["publishNotReadyAddresses"].boolValue == true
        return pods.filter { pod in
            selector.allSatisfy { pod.labels[$0.key] == $0.value }
        }.compactMap { pod -> Backend? in
            guard let ip = pod["status"]["podIP"].stringValue, !ip.isEmpty else { return nil }
            let phase = pod["status"]["phase"].stringValue
            guard phase != "Succeeded", phase != "Failed" else { return nil }
            let terminating = pod.deletionTimestamp != nil
            return Backend(pod: pod, ip: ip, ready: (PodConditions.isReady(pod) && !terminating) || publishNotReady, terminating: terminating,
                           ports: resolve(service, for: pod))
        }.sorted { $0.pod.name < $1.pod.name }
    }

    /// The pod's hostname under the Service, when it is the pod's subdomain (StatefulSet pods behind a headless Service).
    public static func hostname(_ pod: JSONValue, service: JSONValue) -> String? {
        guard let host = pod["spec"]["hostname"].stringValue, !host.isEmpty, pod["spec"]["subdomain"].stringValue == service.name else { return nil }
        return host
    }

    public static func targetRef(_ pod: JSONValue) -> JSONValue {
        ["kind": "Pod", "namespace": .string(pod.namespace), "name": .string(pod.name), "uid": .string(pod.uid)]
    }

    /// The Services (among `services`, all of the pod's namespace) whose selector matches the pod before or after
    /// `event`: the keys both endpoint controllers enqueue when a pod changes.
    public static func selecting(_ event: InformerEvent, among services: [JSONValue]) -> [ObjectKey] {
        var labelSets = [event.object.labels]
        if case .updated(let old, _) = event { labelSets.append(old.labels) }
        return services.filter { service in
            let selector = service["spec"]["selector"].stringMap
            return !selector.isEmpty && labelSets.contains { labels in selector.allSatisfy { labels[$0.key] == $0.value } }
        }.map(ObjectKey.init)
    }

    /// Backends grouped by their resolved ports (pods that resolve a named port differently form separate groups),
    /// in a stable order.
    public static func groupedByPorts(_ backends: [Backend]) -> [(ports: [Port], backends: [Backend])] {
        var groups: [[Port]: [Backend]] = [:]
        for backend in backends { groups[backend.ports, default: []].append(backend) }
        return groups.map { (ports: $0.key, backends: $0.value) }
            .sorted { $0.ports.map(\.port).lexicographicallyPrecedes($1.ports.map(\.port)) }
    }
}
