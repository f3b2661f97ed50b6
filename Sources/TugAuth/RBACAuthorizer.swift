import Synchronization

/// The RBAC authorization mode: answers from the newest compiled `RBACPolicy`, which the server replaces whenever
/// a Role, ClusterRole or binding changes. A decision reads one snapshot; replacing it never blocks a request for
/// longer than swapping a reference.
public final class RBACAuthorizer: Authorizer, RuleResolver, Sendable {
    let current = Mutex(RBACPolicy())

    public init(_ policy: RBACPolicy = RBACPolicy()) {
        current.withLock { $0 = policy }
    }

    public var policy: RBACPolicy { current.withLock { $0 } }

    public func replace(_ policy: RBACPolicy) {
        current.withLock { $0 = policy }
    }

    public func authorize(_ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        policy.authorize(attributes)
    }

    public func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [String]) {
        policy.rules(for: user, namespace: namespace)
    }
}
