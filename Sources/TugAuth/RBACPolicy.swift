public import TugAPIMachinery

/// The RBAC objects of the cluster, compiled for authorization: every binding's subjects indexed by user and group
/// name, each pointing at the rules of the role it references. A request is allowed when one binding that applies
/// to its user (cluster-wide, or in the request's namespace) has a rule that matches it.
public struct RBACPolicy: Sendable {
    /// One binding as it applies to one subject: the role's rules and upstream's description of the grant
    /// (`ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`), or why its role could not be resolved.
    struct Grant: Sendable {
        var rules: [PolicyRule]
        var description: String
        var error: String?
    }

    struct SubjectIndex: Sendable {
        var users: [String: [Grant]] = [:]
        var groups: [String: [Grant]] = [:]

        mutating func add(_ grant: Grant, subject: JSONValue, bindingNamespace: String) {
            guard let name = subject["name"].stringValue, !name.isEmpty else { return }
            switch subject["kind"].stringValue {
            case "User": users[name, default: []].append(grant)
            case "Group": groups[name, default: []].append(grant)
            case "ServiceAccount":
                let namespace = subject["namespace"].stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? bindingNamespace
                guard !namespace.isEmpty else { return }
                users[UserInfo.serviceAccountPrefix + "\(namespace):\(name)", default: []].append(grant)
            default: return
            }
        }

        func grants(for user: UserInfo, into out: inout [Grant]) {
            if let found = users[user.name] { out += found }
            for group in user.groups { if let found = groups[group] { out += found } }
        }
    }

    var cluster = SubjectIndex()
    var namespaces: [String: SubjectIndex] = [:]
    /// How many bindings were compiled (for logs and tests).
    public private(set) var bindingCount = 0

    public init() {}

    /// Compiles the stored objects: Roles and RoleBindings carry their namespace; ClusterRoles and
    /// ClusterRoleBindings none.
    public init(roles: [JSONValue], clusterRoles: [JSONValue], roleBindings: [JSONValue], clusterRoleBindings: [JSONValue]) {
        var roleRules: [String: [PolicyRule]] = [:]
        for role in roles { roleRules["\(role.namespace)/\(role.name)"] = Self.rules(role) }
        var clusterRoleRules: [String: [PolicyRule]] = [:]
        for role in clusterRoles { clusterRoleRules[role.name] = Self.rules(role) }

        func grant(_ binding: JSONValue, kind: String, namespace: String, subject: JSONValue) -> Grant {
            let ref = binding["roleRef"]
            let refKind = ref["kind"].stringValue ?? "", refName = ref["name"].stringValue ?? ""
            let bindingName = namespace.isEmpty ? binding.name : "\(namespace)/\(binding.name)"
            let description = "\(kind) \(quoted(bindingName)) of \(refKind) \(quoted(refName)) to \(Self.describe(subject))"
            let rules: [PolicyRule]?
            switch refKind {
            case "ClusterRole": rules = clusterRoleRules[refName]
            case "Role" where !namespace.isEmpty: rules = roleRules["\(namespace)/\(refName)"]
            default: rules = nil
            }
            guard let rules else {
                return Grant(rules: [], description: description,
                             error: "\(refKind.lowercased()).rbac.authorization.k8s.io \(quoted(refName)) not found")
            }
            return Grant(rules: rules, description: description, error: nil)
        }

        for binding in clusterRoleBindings {
            bindingCount += 1
            for subject in binding["subjects"].arrayValue ?? [] {
                cluster.add(grant(binding, kind: "ClusterRoleBinding", namespace: "", subject: subject), subject: subject, bindingNamespace: "")
            }
        }
        for binding in roleBindings {
            bindingCount += 1
            let namespace = binding.namespace
            for subject in binding["subjects"].arrayValue ?? [] {
                namespaces[namespace, default: SubjectIndex()].add(grant(binding, kind: "RoleBinding", namespace: namespace, subject: subject),
                                                                   subject: subject, bindingNamespace: namespace)
            }
        }
    }

    static func rules(_ role: JSONValue) -> [PolicyRule] {
        (role["rules"].arrayValue ?? []).map(PolicyRule.init(json:))
    }

    static func describe(_ subject: JSONValue) -> String {
        let kind = subject["kind"].stringValue ?? "", name = subject["name"].stringValue ?? ""
        if kind == "ServiceAccount", let namespace = subject["namespace"].stringValue, !namespace.isEmpty {
            return "\(kind) \(quoted("\(namespace)/\(name)"))"
        }
        return "\(kind) \(quoted(name))"
    }

    func grants(for user: UserInfo, namespace: String) -> [Grant] {
        var out: [Grant] = []
        cluster.grants(for: user, into: &out)
        if !namespace.isEmpty { namespaces[namespace]?.grants(for: user, into: &out) }
        return out
    }

    public func authorize(_ attributes: AuthorizationAttributes) -> AuthorizationDecision {
        var errors: [String] = []
        for grant in grants(for: attributes.user, namespace: attributes.namespace) {
            if let error = grant.error { errors.append(error); continue }
            if grant.rules.contains(where: { $0.matches(attributes) }) { return .allow("RBAC: allowed by \(grant.description)") }
        }
        return .noOpinion(errors.isEmpty ? "" : "RBAC: " + Self.aggregate(errors))
    }

    public func rules(for user: UserInfo, namespace: String) -> (rules: [PolicyRule], errors: [String]) {
        var rules: [PolicyRule] = [], errors: [String] = []
        for grant in grants(for: user, namespace: namespace) {
            if let error = grant.error { errors.append(error) } else { rules += grant.rules }
        }
        return (rules, errors)
    }

    /// Several errors as Go's `utilerrors.Aggregate` prints them: one alone, more in brackets.
    static func aggregate(_ errors: [String]) -> String {
        errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]"
    }
}
