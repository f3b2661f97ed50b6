import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Keeps the core/v1 Endpoints object of each selector Service (kube's endpoints controller): ready pod addresses
/// in `addresses`, the others in `notReadyAddresses`, grouped by resolved ports; terminating pods are left out.
/// The Endpoints of a deleted Service go with it.
public final class EndpointsController: Controller {
    public let name = "endpoints"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let services: Informer
    let pods: Informer
    let endpoints: Informer
    let logger: Logger
    static let resource = APIResource(group: "", version: "v1", resource: "endpoints", kind: "Endpoints")

    public var informers: [Informer] { [services, pods, endpoints] }

    public init(client: RESTClient, informers: InformerFactory, logger: Logger) {
        self.client = client
        self.logger = logger
        queue = WorkQueue(name: "endpoints")
        services = informers.informer(.services)
        pods = informers.informer(.pods)
        endpoints = informers.informer(Self.resource)
        services.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        endpoints.addHandler { [queue] event in
            if case .deleted = event { queue.add(ObjectKey(event.object)) }
        }
        pods.addHandler { [queue, services] event in
            ServiceEndpoints.selecting(event, among: services.store.list(namespace: event.object.namespace)).forEach(queue.add)
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let current = endpoints.store.get(key)
        guard let service = services.store.get(key), service.deletionTimestamp == nil else {
            if let current { try await client.delete(Self.resource.path(key), uid: current.uid) }
            return .done
        }
        guard let backends = ServiceEndpoints.backends(service, pods: pods.store.list(namespace: key.namespace)) else { return .done }
        let subsets: [JSONValue] = ServiceEndpoints.groupedByPorts(backends.filter { !$0.terminating }).map { ports, members in
            func address(_ backend: ServiceEndpoints.Backend) -> JSONValue {
                var a: JSONValue = ["ip": .string(backend.ip), "targetRef": ServiceEndpoints.targetRef(backend.pod)]
                if let node = backend.pod["spec"]["nodeName"].stringValue, !node.isEmpty { a["nodeName"] = .string(node) }
                if let host = ServiceEndpoints.hostname(backend.pod, service: service) { a["hostname"] = .string(host) }
                return a
            }
            var subset: JSONValue = ["ports": .array(ports.map { port in
                var p: JSONValue = ["port": .int(port.port), "protocol": .string(port.proto)]
                if !port.name.isEmpty { p["name"] = .string(port.name) }
                if let app = port.appProtocol { p["appProtocol"] = .string(app) }
                return p
            })]
            let ready = members.filter(\.ready), notReady = members.filter { !$0.ready }
            if !ready.isEmpty { subset["addresses"] = .array(ready.map(address)) }
            if !notReady.isEmpty { subset["notReadyAddresses"] = .array(notReady.map(address)) }
            return subset
        }
        var labels = service.labels
        if service["spec"]["clusterIP"] == "None" { labels["service.kubernetes.io/headless"] = "" }
        if let existing = current {
            var updated = existing
            updated["subsets"] = subsets.isEmpty ? .null : .array(subsets)
            updated.labels = labels
            if updated != existing { try await client.update(Self.resource.path(key), updated) }
        } else {
            var object: JSONValue = ["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": .string(key.name), "namespace": .string(key.namespace)]]
            object.labels = labels
            if !subsets.isEmpty { object["subsets"] = .array(subsets) }
            do {
                try await client.create(Self.resource.collectionPath(namespace: key.namespace), object)
            } catch let error as StatusError where error.reason == .alreadyExists {
                queue.add(key)
            }
        }
        return .done
    }
}
