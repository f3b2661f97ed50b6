/// A resource the controllers read and write through the API: group, version, plural name and scope; it knows its
/// URL paths.
public struct APIResource: Hashable, Sendable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var resource: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, resource: String, kind: String, namespaced: Bool = true) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    var prefix: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection across all namespaces (what an informer lists and watches).
    public var collectionPath: String { "\(prefix)/\(resource)" }

    public func collectionPath(namespace: String) -> String {
        namespaced ? "\(prefix)/namespaces/\(namespace)/\(resource)" : collectionPath
    }

    public func path(_ key: ObjectKey, subresource: String? = nil) -> String {
        collectionPath(namespace: key.namespace) + "/\(key.name)" + (subresource.map { "/\($0)" } ?? "")
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    public static let pods = APIResource(group: "", version: "v1", resource: "pods", kind: "Pod")
    public static let nodes = APIResource(group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false)
    public static let namespaces = APIResource(group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false)
    public static let persistentVolumeClaims = APIResource(group: "", version: "v1", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim")
    public static let services = APIResource(group: "", version: "v1", resource: "services", kind: "Service")
    public static let secrets = APIResource(group: "", version: "v1", resource: "secrets", kind: "Secret")
    public static let endpointSlices = APIResource(group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice")
    public static let networkPolicies = APIResource(group: "networking.k8s.io", version: "v1", resource: "networkpolicies", kind: "NetworkPolicy")
    public static let ingresses = APIResource(group: "networking.k8s.io", version: "v1", resource: "ingresses", kind: "Ingress")
    public static let replicaSets = APIResource(group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet")
    public static let deployments = APIResource(group: "apps", version: "v1", resource: "deployments", kind: "Deployment")
    public static let statefulSets = APIResource(group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet")
    public static let daemonSets = APIResource(group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet")
    public static let controllerRevisions = APIResource(group: "apps", version: "v1", resource: "controllerrevisions", kind: "ControllerRevision")
    public static let jobs = APIResource(group: "batch", version: "v1", resource: "jobs", kind: "Job")
    public static let cronJobs = APIResource(group: "batch", version: "v1", resource: "cronjobs", kind: "CronJob")
}
