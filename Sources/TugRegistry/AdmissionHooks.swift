import TugAPI
import TugAPIMachinery
import TugAuth

/// Admission that needs more than the object itself (shared ranges, other objects).
protocol AdmissionPlugin: Sendable {
    /// `user` is who asked (nil for the server's own writes, which no plugin second-guesses).
    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition: ResourceDefinition, dryRun: Bool, old: JSONValue?,
               user: UserInfo?) throws(StatusError)
    /// Gives back what `admit` took when the object goes away (or its create failed).
    func release(_ object: JSONValue)
}

/// The admission chain: namespace lifecycle for every namespaced kind, plus per-resource plugins found by lookup.
final class AdmissionHooks: Sendable {
    let plugins: [GroupResource: [any AdmissionPlugin]]

    init(serviceNetwork: ServiceNetwork = .default, authorization: ClusterAuthorization) {
        let escalation = RBACEscalationCheck(authorization: authorization)
        plugins = [
            GroupResource(group: "rbac.authorization.k8s.io", resource: "roles"): [escalation],
            GroupResource(group: "rbac.authorization.k8s.io", resource: "clusterroles"): [escalation],
            GroupResource(group: "rbac.authorization.k8s.io", resource: "rolebindings"): [escalation],
            GroupResource(group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"): [escalation],
            GroupResource(group: "", resource: "services"): [ServiceAllocator(network: serviceNetwork)],
            GroupResource(group: "", resource: "pods"): [ServiceAccountAdmission(), DefaultTolerationSeconds(), PriorityAdmission()],
            GroupResource(group: "networking.k8s.io", resource: "ingresses"): [DefaultIngressClass()],
        ]
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

    func release(_ object: JSONValue, definition d: ResourceDefinition) {
        for plugin in plugins[d.groupResource] ?? [] { plugin.release(object) }
    }
}
