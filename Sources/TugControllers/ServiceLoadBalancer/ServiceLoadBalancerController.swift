public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// k3s's servicelb role: a LoadBalancer Service is published on the nodes themselves. Every node's proxy answers
/// its ports on the node's addresses (and 127.0.0.1), and this controller sets `status.loadBalancer.ingress` to
/// the InternalIP of each Ready node; a Service that stops being a LoadBalancer has its ingress cleared.
public final class ServiceLoadBalancerController: Controller {
    public let name = "servicelb"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let services: Informer
    let nodes: Informer
    let logger: Logger

    public var informers: [Informer] { [services, nodes] }

    public init(client: RESTClient, informers: InformerFactory, logger: Logger) {
        self.client = client
        self.logger = logger
        queue = WorkQueue(name: "servicelb")
        services = informers.informer(.services)
        nodes = informers.informer(.nodes)
        services.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        // A node becoming Ready or not, or changing address, changes every LoadBalancer's ingress.
        nodes.addHandler { [queue, services] event in
            if case .updated(let old, let new) = event, Self.ingressIP(old) == Self.ingressIP(new) { return }
            for service in services.store.list() where service["spec"]["type"].stringValue == "LoadBalancer" { queue.add(ObjectKey(service)) }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let service = services.store.get(key), service.deletionTimestamp == nil else { return .done }
        let isLoadBalancer = service["spec"]["type"].stringValue == "LoadBalancer"
        let desired: [JSONValue] = isLoadBalancer
            ? Set(nodes.store.list().compactMap(Self.ingressIP)).sorted().map { ["ip": .string($0), "ipMode": "VIP"] } : []
        let current = service["status"]["loadBalancer"]["ingress"].arrayValue ?? []
        guard current != desired else { return .done }
        var status = service["status"]
        status["loadBalancer"] = desired.isEmpty ? .emptyObject : ["ingress": .array(desired)]
        try await StatusUpdate.write(client, .services, service, status: status)
        return .done
    }

    /// The InternalIP of a Ready node (nil for a node that is not Ready).
    static func ingressIP(_ node: JSONValue) -> String? {
        let ready = (node["status"]["conditions"].arrayValue ?? []).contains { $0["type"].stringValue == "Ready" && $0["status"].stringValue == "True" }
        guard ready else { return nil }
        return (node["status"]["addresses"].arrayValue ?? []).first { $0["type"].stringValue == "InternalIP" }?["address"].stringValue
    }
}
