/// An authorizer's answer, as upstream's: allow, deny, or no opinion (the next authorizer in the chain decides);
/// the reason is what access reviews report and a 403 appends.
public struct AuthorizationDecision: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case allow, deny, noOpinion }
    public var kind: Kind
    public var reason: String

    public static func allow(_ reason: String = "") -> AuthorizationDecision { .init(kind: .allow, reason: reason) }
    public static func deny(_ reason: String = "") -> AuthorizationDecision { .init(kind: .deny, reason: reason) }
    public static func noOpinion(_ reason: String = "") -> AuthorizationDecision { .init(kind: .noOpinion, reason: reason) }

    public var allowed: Bool { kind == .allow }
}

/// One stage of authorization (privileged groups, Node, RBAC, …).
public protocol Authorizer: Sendable {
    func authorize(_ attributes: AuthorizationAttributes) -> AuthorizationDecision
}

/// An authorizer that can also list what a user may do in a namespace (SelfSubjectRulesReview).
public protocol RuleResolver: Sendable {
    /// The rules that apply to `user` in `namespace` (cluster-wide ones included), and any errors met resolving
    /// them (a binding to a role that does not exist).
    func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [String])
}

/// Authorizers asked in order, as kube-apiserver's `--authorization-mode=Node,RBAC`: the first that allows or
/// denies decides; if none has an opinion the request is denied, with every reason given.
public struct AuthorizerChain: Authorizer {
    public let authorizers: [any Authorizer]

    public init(_ authorizers: [any Authorizer]) {
        self.authorizers = authorizers
    }

    public func authorize(_ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        var reasons: [String] = []
        for authorizer in authorizers {
            let decision = authorizer.authorize(attributes)
            if decision.kind != .noOpinion { return decision }
            if !decision.reason.isEmpty { reasons.append(decision.reason) }
        }
        return .noOpinion(reasons.joined(separator: ", "))
    }

    /// The rules every resolving authorizer in the chain grants.
    public func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [String]) {
        var rules: [PolicyRule] = [], errors: [String] = []
        for case let resolver as any RuleResolver in authorizers {
            let found = resolver.rules(for: user, namespace: namespace)
            rules += found.rules
            errors += found.errors
        }
        return (rules, errors)
    }
}

/// Members of the privileged groups (`system:masters`) may do everything: upstream puts this authorizer first,
/// ahead of every configured mode, so the administrator cannot be locked out by RBAC.
public struct PrivilegedGroupAuthorizer: Authorizer {
    public let groups: Set<String>

    public init(groups: Set<String> = [UserInfo.mastersGroup]) {
        self.groups = groups
    }

    public func authorize(_ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        attributes.user.groups.contains(where: groups.contains) ? .allow() : .noOpinion()
    }
}
