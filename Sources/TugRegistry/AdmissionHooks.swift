import TugAPI
import TugAPIMachinery
import Synchronization
import TugAuth

/// Admission that needs more than the object itself (shared ranges, other objects, who asks). A plugin may tell
/// the client something through `AdmissionWarnings` without refusing the write.
public protocol AdmissionPlugin: Sendable {
    /// `user` is who asked (nil for the server's own writes, which no plugin second-guesses).
    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition: ResourceDefinition, dryRun: Bool, old: JSONValue?,
               user: UserInfo?) throws(StatusError)
    /// Gives back what `admit` took when the object goes away (or its create failed).
    func release(_ object: JSONValue)
    /// Whether `user` may delete `object` (NodeRestriction: a node deletes only its own pods, Node and Lease).
    func admitDelete(_ store: ObjectStore, _ object: JSONValue, definition: ResourceDefinition, user: UserInfo) throws(StatusError)
}

extension AdmissionPlugin {
    public func release(_ object: JSONValue) {}
    public func admitDelete(_ store: ObjectStore, _ object: JSONValue, definition: ResourceDefinition, user: UserInfo) throws(StatusError) {}
}

/// Warnings for the client of the request being served (upstream's `warning.AddWarning(ctx, …)`): the API server
/// sets a sink around each request's handler and returns what was added as `Warning` headers.
public final class AdmissionWarnings: Sendable {
    @TaskLocal public static var current: AdmissionWarnings?
    let messages = Mutex<[String]>([])

    public init() {}

    /// Adds a warning for the request in progress (none outside one).
    public static func add(_ message: String) {
        current?.messages.withLock { if !$0.contains(message) { $0.append(message) } }
    }

    public var all: [String] { messages.withLock { $0 } }

    /// Audit annotations for the request in progress (Pod Security's `audit` mode, its enforce policy): they go
    /// into the request's audit event.
    let notes = Mutex<[String: String]>([:])

    public static func annotate(_ key: String, _ value: String) {
        current?.notes.withLock { $0[key] = value }
    }

    public var annotations: [String: String] { notes.withLock { $0 } }
}

/// The admission chain: namespace lifecycle for every namespaced kind, plus per-resource plugins found by lookup.
final class AdmissionHooks: Sendable {
    let plugins: [GroupResource: [any AdmissionPlugin]]

    init(serviceNetwork: ServiceNetwork = .default, authorization: ClusterAuthorization, extra: [GroupResource: [any AdmissionPlugin]]) {
        let escalation = RBACEscalationCheck(authorization: authorization)
        let builtIn: [GroupResource: [any AdmissionPlugin]] = [
            GroupResource(group: "rbac.authorization.k8s.io", resource: "roles"): [escalation],
            GroupResource(group: "rbac.authorization.k8s.io", resource: "clusterroles"): [escalation],
            GroupResource(group: "rbac.authorization.k8s.io", resource: "rolebindings"): [escalation],
            GroupResource(group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"): [escalation],
            GroupResource(group: "", resource: "services"): [ServiceAllocator(network: serviceNetwork)],
            GroupResource(group: "", resource: "pods"): [ServiceAccountAdmission(), DefaultTolerationSeconds(), PriorityAdmission()],
            GroupResource(group: "networking.k8s.io", resource: "ingresses"): [DefaultIngressClass()],
        ]
        plugins = builtIn.merging(extra) { $0 + $1 }
    }

    /// Content may be created only in an existing namespace that is not being deleted.
    func checkNamespaceAcceptsContent(_ store: ObjectStore, namespace: String, resource: ResourceDefinition) throws(StatusError) {
        guard let nsDef = store.definition(group: "", resource: "namespaces") else { return }
        guard let stored = store.backend.get(key: StorageKeys.key(nsDef, namespace: "", name: namespace)) else {
            throw .notFound(nsDef.groupResource, name: namespace)
        }
        let ns = try store.decode(stored)
        if ns.deletionTimestamp != nil, !resource.strategy.allowedInTerminatingNamespace {
            throw .forbidden(resource.groupResource, name: "", "unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }

    func allocate(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue? = nil,
                  user: UserInfo?) throws(StatusError) {
        for plugin in plugins[d.groupResource] ?? [] {
            try plugin.admit(store, &object, definition: d, dryRun: dryRun, old: old, user: user)
        }
    }

    func admitDelete(_ store: ObjectStore, _ object: JSONValue, definition d: ResourceDefinition, user: UserInfo) throws(StatusError) {
        for plugin in plugins[d.groupResource] ?? [] { try plugin.admitDelete(store, object, definition: d, user: user) }
    }

    func release(_ object: JSONValue, definition d: ResourceDefinition) {
        for plugin in plugins[d.groupResource] ?? [] { plugin.release(object) }
    }
}
