/// The cluster's authorizer chain, as kube-apiserver's: the privileged group (`system:masters`) first, then the
/// configured modes (the Node authorizer, when it exists, goes before RBAC), then RBAC. `rbac` is the mode whose
/// policy the server keeps compiled from the store.
public struct ClusterAuthorization: Sendable {
    public let rbac: RBACAuthorizer
    public let chain: AuthorizerChain

    public init(rbac: RBACAuthorizer = RBACAuthorizer(), modes: [any Authorizer] = []) {
        self.rbac = rbac
        self.chain = AuthorizerChain([PrivilegedGroupAuthorizer()] + modes + [rbac])
    }

    public func authorize(_ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        chain.authorize(attributes)
    }

    public func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [String]) {
        chain.rules(for: user, namespace: namespace)
    }
}
