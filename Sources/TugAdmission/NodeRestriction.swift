public import TugAPI
public import TugAPIMachinery
public import TugAuth
public import TugRegistry

/// The NodeRestriction admission plugin: a node may write only its own Node object and Lease, create only mirror
/// pods bound to itself, update and delete only the pods bound to it (upstream's messages).
public struct NodeRestriction: AdmissionPlugin {
    public init() {}

    public func registrations() -> [GroupResource: [any AdmissionPlugin]] {
        [GroupResource(group: "", resource: "nodes"): [self], GroupResource(group: "", resource: "pods"): [self],
         GroupResource(group: "coordination.k8s.io", resource: "leases"): [self]]
    }

    /// For a Node or a Lease: whether it is the node's own (true), else upstream's refusal; false for other kinds.
    static func ownNodeOrLease(_ d: ResourceDefinition, _ object: JSONValue, node: String, verb: String) throws(StatusError) -> Bool {
        switch d.resource {
        case "nodes":
            guard object.name == node else { throw .forbidden(d.groupResource, name: object.name, "node \"\(node)\" is not allowed to \(verb) node \"\(object.name)\"") }
            return true
        case "leases":
            guard object.name == node else { throw .forbidden(d.groupResource, name: object.name, "can only access node lease with the same name as the requesting node") }
            return true
        default:
            return false
        }
    }

    public func admitDelete(_ store: ObjectStore, _ object: JSONValue, definition d: ResourceDefinition, user: UserInfo) throws(StatusError) {
        guard let node = NodeAuthorizer.nodeName(user) else { return }
        if try Self.ownNodeOrLease(d, object, node: node, verb: "delete") { return }
        guard object["spec"]["nodeName"].stringValue == node else {
            throw .forbidden(d.groupResource, name: object.name, "node \"\(node)\" can only delete pods with spec.nodeName set to itself")
        }
    }

    public func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?,
                      user: UserInfo?) throws(StatusError) {
        guard let user, let node = NodeAuthorizer.nodeName(user) else { return }
        if try Self.ownNodeOrLease(d, object, node: node, verb: "modify") { return }
        let boundTo = (old ?? object)["spec"]["nodeName"].stringValue ?? ""
        if old == nil {
            guard object.annotations["kubernetes.io/config.mirror"] != nil else {
                throw .forbidden(d.groupResource, name: object.name,
                                 "pod does not have \"kubernetes.io/config.mirror\" annotation, node \"\(node)\" can only create mirror pods")
            }
            guard boundTo == node else {
                throw .forbidden(d.groupResource, name: object.name, "node \"\(node)\" can only create pods with spec.nodeName set to itself")
            }
        } else if boundTo != node {
            throw .forbidden(d.groupResource, name: object.name, "node \"\(node)\" can only update pod status for pods with spec.nodeName set to itself")
        }
    }
}
