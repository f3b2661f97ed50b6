/// The cluster's authorizer chain, as kube-apiserver's: the privileged group (`system:masters`) first, then the
/// Node authorizer, then RBAC (whose policy the server keeps compiled from the store).
public struct ClusterAuthorization: Sendable {
    public let node: NodeAuthorizer
    public let rbac: RBACAuthorizer
    public let chain: AuthorizerChain

    /// `--authorization-mode=Node,RBAC` behind the privileged group.
    public init(node: NodeAuthorizer = NodeAuthorizer(), rbac: RBACAuthorizer = RBACAuthorizer()) {
        self.node = node
        self.rbac = rbac
        self.chain = AuthorizerChain([PrivilegedGroupAuthorizer(), node, rbac])
    }

    public func authorize(_ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        chain.authorize(attributes)
    }

    public func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [String]) {
        chain.rules(for: user, namespace: namespace)
    }
}
