import TugAPI
import TugAPIMachinery
import TugAuth

/// RBAC's escalation prevention (upstream's policy-based RBAC storage): a Role or ClusterRole may only be written
/// by someone who holds every rule in it or may `escalate` it; a binding only by someone who may `bind` its role or
/// holds every rule of that role. Aggregation rules are for `system:masters` only (they can gather any role's
/// rules). Writes that touch nothing but ownerReferences and finalizers (the garbage collector's) pass.
struct RBACEscalationCheck: AdmissionPlugin {
    let authorization: ClusterAuthorization
    static let group = "rbac.authorization.k8s.io"

    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?,
               user: UserInfo?) throws(StatusError) {
        guard let user, !user.groups.contains(UserInfo.mastersGroup) else { return }
        if let old, Self.onlyGarbageCollectionFields(object, old) { return }
        let namespace = d.namespaced ? object.namespace : ""
        if d.kind.hasSuffix("Binding") {
            try checkBinding(store, object, definition: d, namespace: namespace, user: user)
        } else {
            try checkRole(object, old: old, definition: d, namespace: namespace, user: user)
        }
    }

    func release(_ object: JSONValue) {}

    func checkRole(_ role: JSONValue, old: JSONValue?, definition d: ResourceDefinition, namespace: String, user: UserInfo) throws(StatusError) {
        if !role["aggregationRule"].isNull || !(old?["aggregationRule"].isNull ?? true) {
            throw .forbidden(d.groupResource, name: role.name, "must have cluster-admin privileges to use the aggregationRule")
        }
        let escalate = AuthorizationAttributes(user: user, verb: "escalate", apiGroup: Self.group, resource: d.resource,
                                               namespace: namespace, name: role.name)
        if authorization.authorize(escalate).allowed { return }
        try confirmNoEscalation(requested: (role["rules"].arrayValue ?? []).map(PolicyRule.init(json:)), namespace: namespace, user: user,
                                resource: d.groupResource, name: role.name)
    }

    func checkBinding(_ store: ObjectStore, _ binding: JSONValue, definition d: ResourceDefinition, namespace: String, user: UserInfo) throws(StatusError) {
        let ref = binding["roleRef"]
        let refName = ref["name"].stringValue ?? ""
        let refResource = ref["kind"].stringValue == "Role" ? "roles" : "clusterroles"
        let bind = AuthorizationAttributes(user: user, verb: "bind", apiGroup: Self.group, resource: refResource,
                                           namespace: namespace, name: refName)
        if authorization.authorize(bind).allowed { return }
        guard let roleDefinition = store.definition(group: Self.group, resource: refResource) else { return }
        let role = try store.getObject(roleDefinition, namespace: refResource == "roles" ? namespace : "", name: refName)
        try confirmNoEscalation(requested: (role["rules"].arrayValue ?? []).map(PolicyRule.init(json:)), namespace: namespace, user: user,
                                resource: d.groupResource, name: binding.name)
    }

    func confirmNoEscalation(requested: [PolicyRule], namespace: String, user: UserInfo, resource: GroupResource, name: String) throws(StatusError) {
        let owned = authorization.rules(for: user, namespace: namespace)
        let missing = RuleCoverage.uncovered(owned: owned.rules, requested: requested)
        guard missing.isEmpty else {
            throw .forbidden(resource, name: name, RuleCoverage.escalationMessage(user: user, missing: missing, errors: owned.errors))
        }
    }

    /// Whether an update changes only what the garbage collector writes (upstream's `IsOnlyMutatingGCFields`).
    static func onlyGarbageCollectionFields(_ object: JSONValue, _ old: JSONValue) -> Bool {
        func stripped(_ value: JSONValue) -> JSONValue {
            var copy = value
            for key in ["ownerReferences", "finalizers", "resourceVersion", "managedFields"] { copy["metadata"][key] = .null }
            return copy
        }
        return stripped(object) == stripped(old)
    }
}
