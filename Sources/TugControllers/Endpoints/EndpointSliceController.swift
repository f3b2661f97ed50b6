import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Publishes each selector Service's backends as discovery.k8s.io/v1 EndpointSlices (kube's endpointslice
/// controller): one slice per distinct set of resolved ports, endpoints with ready/serving/terminating conditions,
/// node name, target pod and hostname; slices are updated in place, created and deleted to match.
public final class EndpointSliceController: Controller {
    public let name = "endpointslice"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let services: Informer
    let pods: Informer
    let slices: Informer
    let logger: Logger
    static let serviceLabel = "kubernetes.io/service-name"
    static let managedBy = "endpointslice.kubernetes.io/managed-by"
    static let manager = "endpointslice-controller.k8s.io"
    static let byService = "endpointslice.managedSlicesByService"

    public var informers: [Informer] { [services, pods, slices] }

    public init(client: RESTClient, informers: InformerFactory, logger: Logger) {
        self.client = client
        self.logger = logger
        queue = WorkQueue(name: "endpointslice")
        services = informers.informer(.services)
        pods = informers.informer(.pods)
        slices = informers.informer(.endpointSlices)
        slices.store.addIndex(Self.byService) { slice in
            slice.labels[Self.managedBy] == Self.manager ? slice.labels[Self.serviceLabel].map { ["\(slice.namespace)/\($0)"] } ?? [] : []
        }
        services.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        slices.addHandler { [queue] event in
            if let service = event.object.labels[Self.serviceLabel] { queue.add(ObjectKey(namespace: event.object.namespace, name: service)) }
        }
        pods.addHandler { [queue, services] event in
            ServiceEndpoints.selecting(event, among: services.store.list(namespace: event.object.namespace)).forEach(queue.add)
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let service = services.store.get(key), service.deletionTimestamp == nil,
              let backends = ServiceEndpoints.backends(service, pods: pods.store.list(namespace: key.namespace)) else { return .done }
        // One slice per port set; with no backends, one placeholder slice without endpoints or ports, as kube keeps.
        var groups = ServiceEndpoints.groupedByPorts(backends)
        if groups.isEmpty { groups = [(ports: [], backends: [])] }
        let desired = groups.map { Self.slice(for: service, ports: $0.ports, backends: $0.backends) }
        var existing = slices.store.byIndex(Self.byService, "\(key.namespace)/\(key.name)").sorted { $0.name < $1.name }
        for wanted in desired {
            // Reuse the slice that already has these ports, else any spare one, else create.
            let index = existing.firstIndex { $0["ports"] == wanted["ports"] } ?? existing.indices.first
            if let index {
                let current = existing.remove(at: index)
                var updated = current
                for field in ["addressType", "endpoints", "ports"] { updated[field] = wanted[field] }
                updated["metadata"]["labels"] = wanted["metadata"]["labels"]
                updated["metadata"]["ownerReferences"] = wanted["metadata"]["ownerReferences"]
                if updated != current { try await client.update(APIResource.endpointSlices.path(ObjectKey(current)), updated) }
            } else {
                try await client.create(APIResource.endpointSlices.collectionPath(namespace: key.namespace), wanted)
            }
        }
        for extra in existing { try await client.delete(APIResource.endpointSlices.path(ObjectKey(extra)), uid: extra.uid) }
        return .done
    }

    static func slice(for service: JSONValue, ports: [ServiceEndpoints.Port], backends: [ServiceEndpoints.Backend]) -> JSONValue {
        let endpoints: [JSONValue] = backends.map { backend in
            var endpoint: JSONValue = ["addresses": [.string(backend.ip)],
                                       "conditions": ["ready": .bool(backend.ready), "serving": .bool(backend.ready || backend.terminating && PodConditions.isReady(backend.pod)),
                                                      "terminating": .bool(backend.terminating)],
                                       "targetRef": ServiceEndpoints.targetRef(backend.pod)]
            if let node = backend.pod["spec"]["nodeName"].stringValue, !node.isEmpty { endpoint["nodeName"] = .string(node) }
            if let host = ServiceEndpoints.hostname(backend.pod, service: service) { endpoint["hostname"] = .string(host) }
            return endpoint
        }
        let portList: [JSONValue] = ports.map { port in
            var p: JSONValue = ["name": .string(port.name), "port": .int(port.port), "protocol": .string(port.proto)]
            if let app = port.appProtocol { p["appProtocol"] = .string(app) }
            return p
        }
        return ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["generateName": .string("\(service.name)-"), "namespace": .string(service.namespace),
                             "labels": JSONValue(stringMap: [serviceLabel: service.name, managedBy: manager]),
                             "ownerReferences": [["apiVersion": "v1", "kind": "Service", "name": .string(service.name), "uid": .string(service.uid),
                                                  "controller": true, "blockOwnerDeletion": true]]],
                "addressType": "IPv4", "endpoints": .array(endpoints), "ports": .array(portList)]
    }
}
