import Testing
import TugAPIMachinery
@testable import TugAuth

@Suite struct PolicyRuleTests {
    let jane = UserInfo(name: "jane", groups: ["devs", UserInfo.authenticatedGroup])

    @Test func matchesVerbsGroupsResourcesAndNames() {
        let rule = PolicyRule(verbs: ["get", "list"], apiGroups: ["", "apps"], resources: ["pods", "deployments"], resourceNames: ["web"])
        #expect(rule.matches(AuthorizationAttributes(user: jane, verb: "get", apiGroup: "", resource: "pods", namespace: "a", name: "web")))
        #expect(!rule.matches(AuthorizationAttributes(user: jane, verb: "get", apiGroup: "", resource: "pods", namespace: "a", name: "db")))
        #expect(!rule.matches(AuthorizationAttributes(user: jane, verb: "delete", apiGroup: "", resource: "pods", name: "web")))
        #expect(!rule.matches(AuthorizationAttributes(user: jane, verb: "get", apiGroup: "batch", resource: "pods", name: "web")))
        // A rule on a resource does not cover its subresources.
        #expect(!rule.matches(AuthorizationAttributes(user: jane, verb: "get", apiGroup: "", resource: "pods", subresource: "log", name: "web")))
    }

    @Test func subresourceWildcardsAndURLPrefixes() {
        let status = PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*/status"])
        #expect(status.matches(AuthorizationAttributes(user: jane, verb: "patch", apiGroup: "apps", resource: "deployments", subresource: "status")))
        #expect(!status.matches(AuthorizationAttributes(user: jane, verb: "patch", apiGroup: "apps", resource: "deployments", subresource: "scale")))
        #expect(!status.matches(AuthorizationAttributes(user: jane, verb: "patch", apiGroup: "apps", resource: "deployments")))
        let urls = PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/apis/*"])
        #expect(urls.matches(AuthorizationAttributes(user: jane, verb: "get", path: "/apis/apps/v1")))
        #expect(urls.matches(AuthorizationAttributes(user: jane, verb: "get", path: "/healthz")))
        #expect(!urls.matches(AuthorizationAttributes(user: jane, verb: "get", path: "/healthz/etcd")))
        #expect(!urls.matches(AuthorizationAttributes(user: jane, verb: "post", path: "/healthz")))
        // URL rules never match resource requests.
        #expect(!urls.matches(AuthorizationAttributes(user: jane, verb: "get", apiGroup: "", resource: "pods")))
    }

    @Test func forbiddenSentencesAsUpstream() {
        #expect(AuthorizationAttributes(user: jane, verb: "list", apiGroup: "", resource: "pods", namespace: "default").forbiddenSentence
                == #"User "jane" cannot list resource "pods" in API group "" in the namespace "default""#)
        #expect(AuthorizationAttributes(user: jane, verb: "get", apiGroup: "", resource: "nodes", subresource: "proxy", name: "n1").forbiddenSentence
                == #"User "jane" cannot get resource "nodes/proxy" in API group "" at the cluster scope"#)
        #expect(AuthorizationAttributes(user: jane, verb: "get", path: "/metrics").forbiddenSentence == #"User "jane" cannot get path "/metrics""#)
    }
}

@Suite struct RBACPolicyTests {
    static func role(_ name: String, namespace: String = "", _ rules: [PolicyRule]) -> JSONValue {
        ["metadata": ["name": .string(name), "namespace": .string(namespace)], "rules": .array(rules.map(\.json))]
    }

    static func binding(_ name: String, namespace: String = "", kind: String, role: String, subjects: [JSONValue]) -> JSONValue {
        ["metadata": ["name": .string(name), "namespace": .string(namespace)], "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(kind), "name": .string(role)],
         "subjects": .array(subjects)]
    }

    let policy = RBACPolicy(
        roles: [role("reader", namespace: "a", [PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["secrets"])])],
        clusterRoles: [role("view", [PolicyRule(verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods"])])],
        roleBindings: [
            binding("read", namespace: "a", kind: "Role", role: "reader", subjects: [["kind": "ServiceAccount", "name": "app"]]),
            binding("view", namespace: "b", kind: "ClusterRole", role: "view", subjects: [["kind": "Group", "name": "devs"]]),
            binding("broken", namespace: "b", kind: "Role", role: "missing", subjects: [["kind": "User", "name": "jane"]]),
        ],
        clusterRoleBindings: [binding("viewers", kind: "ClusterRole", role: "view", subjects: [["kind": "User", "name": "olga"]])])

    @Test func namespacedBindingsApplyInTheirNamespaceOnly() {
        let app = UserInfo.serviceAccount(namespace: "a", name: "app")
        let read = policy.authorize(AuthorizationAttributes(user: app, verb: "list", apiGroup: "", resource: "secrets", namespace: "a"))
        #expect(read == .allow(#"RBAC: allowed by RoleBinding "a/read" of Role "reader" to ServiceAccount "app""#))
        #expect(!policy.authorize(AuthorizationAttributes(user: app, verb: "list", apiGroup: "", resource: "secrets", namespace: "b")).allowed)
        // A service account of another namespace with the same name is someone else.
        let other = UserInfo.serviceAccount(namespace: "b", name: "app")
        #expect(!policy.authorize(AuthorizationAttributes(user: other, verb: "list", apiGroup: "", resource: "secrets", namespace: "a")).allowed)
        // Across all namespaces (a cluster-scoped request) only cluster bindings count.
        #expect(!policy.authorize(AuthorizationAttributes(user: app, verb: "list", apiGroup: "", resource: "secrets")).allowed)
    }

    @Test func groupsAndClusterBindings() {
        let jane = UserInfo(name: "jane", groups: ["devs"])
        #expect(policy.authorize(AuthorizationAttributes(user: jane, verb: "watch", apiGroup: "", resource: "pods", namespace: "b")).allowed)
        #expect(!policy.authorize(AuthorizationAttributes(user: jane, verb: "watch", apiGroup: "", resource: "pods", namespace: "c")).allowed)
        let olga = UserInfo(name: "olga", groups: [])
        #expect(policy.authorize(AuthorizationAttributes(user: olga, verb: "list", apiGroup: "", resource: "pods")).allowed)
        #expect(policy.authorize(AuthorizationAttributes(user: olga, verb: "list", apiGroup: "", resource: "pods", namespace: "z")).allowed)
    }

    @Test func unresolvedRolesAreReported() {
        let jane = UserInfo(name: "jane", groups: [])
        let decision = policy.authorize(AuthorizationAttributes(user: jane, verb: "get", apiGroup: "", resource: "pods", namespace: "b"))
        #expect(decision == .noOpinion(#"RBAC: role.rbac.authorization.k8s.io "missing" not found"#))
        let rules = policy.rules(for: jane, namespace: "b")
        #expect(rules.rules.isEmpty && rules.errors.count == 1)
    }

    @Test func chainPutsThePrivilegedGroupFirst() {
        let chain = ClusterAuthorization(rbac: RBACAuthorizer(policy))
        #expect(chain.authorize(AuthorizationAttributes(user: .admin, verb: "delete", apiGroup: "", resource: "nodes", name: "n")).allowed)
        #expect(!chain.authorize(AuthorizationAttributes(user: .anonymous, verb: "get", path: "/metrics")).allowed)
    }
}

@Suite struct RuleCoverageTests {
    @Test func ownersCoverOnlyWhatTheyHold() {
        let owned = [PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/status"]),
                     PolicyRule(verbs: ["get"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"]),
                     PolicyRule(verbs: ["get"], nonResourceURLs: ["/apis/*"])]
        #expect(RuleCoverage.uncovered(owned: owned, requested: [PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods", "services/status"])]).isEmpty)
        #expect(RuleCoverage.uncovered(owned: owned, requested: [PolicyRule(verbs: ["get"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"])]).isEmpty)
        #expect(RuleCoverage.uncovered(owned: owned, requested: [PolicyRule(verbs: ["get"], nonResourceURLs: ["/apis/apps"])]).isEmpty)
        let missing = RuleCoverage.uncovered(owned: owned, requested: [
            PolicyRule(verbs: ["get", "delete"], apiGroups: [""], resources: ["pods"]),
            // Every name of deployments is more than one name.
            PolicyRule(verbs: ["get"], apiGroups: ["apps"], resources: ["deployments"]),
        ])
        #expect(missing == [PolicyRule(verbs: ["delete"], apiGroups: [""], resources: ["pods"]),
                            PolicyRule(verbs: ["get"], apiGroups: ["apps"], resources: ["deployments"])])
        let everything = [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])]
        #expect(RuleCoverage.uncovered(owned: everything, requested: [PolicyRule(verbs: ["escalate"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"])]).isEmpty)
    }

    @Test func refusalNamesTheMissingRules() {
        let message = RuleCoverage.escalationMessage(user: UserInfo(name: "jane", groups: ["system:authenticated"]),
                                                     missing: [PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["nodes"])], errors: [])
        #expect(message == "user \"jane\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"list\"]}")
    }
}

@Suite struct AggregationAndBootstrapTests {
    @Test func aggregatedRolesGatherLabelledRolesInNameOrder() {
        let roles: [JSONValue] = [
            ["metadata": ["name": "admin"], "aggregationRule": ["clusterRoleSelectors": [["matchLabels": ["to-admin": "true"]]]]],
            ["metadata": ["name": "b-part", "labels": ["to-admin": "true"]], "rules": [["verbs": ["get"], "apiGroups": [""], "resources": ["pods"]]]],
            ["metadata": ["name": "a-part", "labels": ["to-admin": "true"]], "rules": [["verbs": ["list"], "apiGroups": [""], "resources": ["pods"]],
                                                                                       ["verbs": ["get"], "apiGroups": [""], "resources": ["pods"]]]],
            ["metadata": ["name": "other"], "rules": [["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]]]],
        ]
        let rules = ClusterRoleAggregation.rules(for: roles[0], among: roles)
        #expect(rules?.map { PolicyRule(json: $0).verbs } == [["list"], ["get"]])
        #expect(ClusterRoleAggregation.rules(for: roles[1], among: roles) == nil)
    }

    @Test func bootstrapPolicyIsCompleteAndConsistent() {
        let names = Set(BootstrapPolicy.clusterRoles.map(\.name))
        #expect(names.count == BootstrapPolicy.clusterRoles.count)
        for binding in BootstrapPolicy.clusterRoleBindings {
            #expect(names.contains(binding["roleRef"]["name"].stringValue ?? ""), "\(binding.name) binds a role the policy lacks")
        }
        for controller in ControllerPolicy.controllers {
            #expect(names.contains("system:controller:\(controller)"))
        }
        // The bootstrap policy compiled and aggregated allows the admin and the components what they need.
        var roles = BootstrapPolicy.clusterRoles
        for _ in 0..<3 {
            roles = roles.map { role in
                var role = role
                if let rules = ClusterRoleAggregation.rules(for: role, among: roles) { role["rules"] = .array(rules) }
                return role
            }
        }
        let policy = RBACPolicy(roles: [], clusterRoles: roles, roleBindings: [], clusterRoleBindings: BootstrapPolicy.clusterRoleBindings)
        #expect(policy.authorize(AuthorizationAttributes(user: .kubeScheduler, verb: "create", apiGroup: "", resource: "pods", subresource: "binding",
                                                         namespace: "default", name: "web")).allowed)
        #expect(policy.authorize(AuthorizationAttributes(user: ControllerPolicy.user(ControllerPolicy.replicaSet), verb: "create", apiGroup: "",
                                                         resource: "pods", namespace: "default")).allowed)
        #expect(!policy.authorize(AuthorizationAttributes(user: ControllerPolicy.user(ControllerPolicy.replicaSet), verb: "get", apiGroup: "",
                                                          resource: "secrets", namespace: "default")).allowed)
        let someone = UserInfo(name: "someone", groups: [UserInfo.authenticatedGroup])
        #expect(policy.authorize(AuthorizationAttributes(user: someone, verb: "get", path: "/apis/apps/v1")).allowed)
        #expect(!policy.authorize(AuthorizationAttributes(user: someone, verb: "get", apiGroup: "", resource: "secrets", namespace: "default")).allowed)
        // `admin` gathers `edit`, which gathers `view`.
        let admin = roles.first { $0.name == "admin" }.map(RBACPolicy.rules) ?? []
        #expect(admin.contains { $0.resources.contains("rolebindings") } && admin.contains { $0.resources.contains("pods/log") })
    }
}

@Suite struct NodeAuthorizerTests {
    struct Relations: NodeRelations {
        func node(_ node: String, uses resource: String, namespace: String, name: String) -> Bool {
            node == "n1" && namespace == "default" && ["secrets": "db-password", "configmaps": "settings", "serviceaccounts": "web"][resource] == name
        }
    }

    let authorizer: NodeAuthorizer = {
        let a = NodeAuthorizer()
        a.connect(Relations())
        return a
    }()
    let n1 = UserInfo.node("n1")

    @Test func nodesGetOnlyTheirPodsObjects() {
        #expect(authorizer.authorize(AuthorizationAttributes(user: n1, verb: "get", apiGroup: "", resource: "secrets", namespace: "default", name: "db-password")).allowed)
        let other = authorizer.authorize(AuthorizationAttributes(user: n1, verb: "get", apiGroup: "", resource: "secrets", namespace: "default", name: "admin-token"))
        #expect(other == .noOpinion("no relationship found between node 'n1' and this object"))
        #expect(!authorizer.authorize(AuthorizationAttributes(user: .node("n2"), verb: "get", apiGroup: "", resource: "secrets", namespace: "default", name: "db-password")).allowed)
        #expect(!authorizer.authorize(AuthorizationAttributes(user: n1, verb: "list", apiGroup: "", resource: "secrets", namespace: "default")).allowed)
        #expect(authorizer.authorize(AuthorizationAttributes(user: n1, verb: "create", apiGroup: "", resource: "serviceaccounts", subresource: "token",
                                                             namespace: "default", name: "web")).allowed)
        #expect(!authorizer.authorize(AuthorizationAttributes(user: n1, verb: "create", apiGroup: "", resource: "serviceaccounts", subresource: "token",
                                                              namespace: "default", name: "admin")).allowed)
    }

    @Test func leasesAndNodeRules() {
        #expect(authorizer.authorize(AuthorizationAttributes(user: n1, verb: "update", apiGroup: "coordination.k8s.io", resource: "leases",
                                                             namespace: "kube-node-lease", name: "n1")).allowed)
        #expect(!authorizer.authorize(AuthorizationAttributes(user: n1, verb: "update", apiGroup: "coordination.k8s.io", resource: "leases",
                                                              namespace: "kube-node-lease", name: "n2")).allowed)
        #expect(authorizer.authorize(AuthorizationAttributes(user: n1, verb: "watch", apiGroup: "", resource: "pods")).allowed)
        #expect(authorizer.authorize(AuthorizationAttributes(user: n1, verb: "patch", apiGroup: "", resource: "pods", subresource: "status",
                                                             namespace: "default", name: "web")).allowed)
        #expect(!authorizer.authorize(AuthorizationAttributes(user: n1, verb: "delete", apiGroup: "", resource: "namespaces", name: "default")).allowed)
        // Not a node: no opinion, whatever the groups say.
        let impostor = UserInfo(name: "mallory", groups: ["system:nodes"])
        #expect(authorizer.authorize(AuthorizationAttributes(user: impostor, verb: "watch", apiGroup: "", resource: "pods")) == .noOpinion())
        #expect(NodeAuthorizer.nodeName(UserInfo(name: "system:node:x", groups: [])) == nil)
    }
}
