import Synchronization

/// What ties a node to the objects its pods use, for the Node authorizer (upstream keeps a graph; tug asks the
/// store about the node's pods when a node asks for something).
public protocol NodeRelations: Sendable {
    /// Whether a pod bound to `node` uses the core object `resource` (`secrets`, `configmaps`,
    /// `persistentvolumeclaims`, `serviceaccounts`) named `namespace/name`.
    func node(_ node: String, uses resource: String, namespace: String, name: String) -> Bool
}

/// The Node authorization mode (kube-apiserver's `--authorization-mode=Node`): a node (`system:node:<name>` in
/// `system:nodes`) may get the Secrets, ConfigMaps and claims of the pods bound to it and make tokens for their
/// service accounts, may hold its own Lease, and may do what the node rules allow for everything else;
/// NodeRestriction admission then keeps its writes to its own Node and pods. Anyone else is not its business.
public final class NodeAuthorizer: Authorizer, Sendable {
    let relations = Mutex<(any NodeRelations)?>(nil)
    static let related: Set<String> = ["secrets", "configmaps", "persistentvolumeclaims"]

    public init() {}

    /// Where relations come from (set once the store exists).
    public func connect(_ relations: any NodeRelations) {
        self.relations.withLock { $0 = relations }
    }

    /// The node a user is, if it is one.
    public static func nodeName(_ user: UserInfo) -> String? {
        guard user.groups.contains("system:nodes"), user.name.hasPrefix("system:node:") else { return nil }
        let name = String(user.name.dropFirst("system:node:".count))
        return name.isEmpty ? nil : name
    }

    public func authorize(_ a: AuthorizationAttributes) -> AuthorizationDecision {
        guard let node = Self.nodeName(a.user) else { return .noOpinion() }
        if a.isResourceRequest, a.apiGroup.isEmpty {
            if Self.related.contains(a.resource) && a.subresource.isEmpty || a.resource == "serviceaccounts" && a.subresource == "token" {
                return relatedObject(node, a)
            }
        }
        if a.isResourceRequest, a.apiGroup == "coordination.k8s.io", a.resource == "leases" {
            // Its own lease only (a create names it in the body, which NodeRestriction checks).
            guard a.namespace == "kube-node-lease", a.name == node || a.verb == "create" && a.name.isEmpty,
                  ["get", "create", "update", "patch", "delete"].contains(a.verb) else {
                return .noOpinion("node '\(node)' may only use its own lease")
            }
            return .allow()
        }
        return BootstrapPolicy.nodeRules.contains { $0.matches(a) } ? .allow() : .noOpinion()
    }

    func relatedObject(_ node: String, _ a: AuthorizationAttributes) -> AuthorizationDecision {
        let verb = a.resource == "serviceaccounts" ? "create" : "get"
        guard a.verb == verb, !a.name.isEmpty, !a.namespace.isEmpty else {
            return .noOpinion("can only \(verb) individual resources of this type")
        }
        guard let relations = relations.withLock({ $0 }), relations.node(node, uses: a.resource, namespace: a.namespace, name: a.name) else {
            return .noOpinion("no relationship found between node '\(node)' and this object")
        }
        return .allow()
    }
}
