public import TugAPIMachinery

/// Upstream's bootstrap RBAC policy (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`, Kubernetes 1.32) for the
/// kinds and components tug has: the user-facing roles (cluster-admin, admin, edit, view, the aggregated
/// `system:aggregate-to-*` parts), the discovery and public-info roles every client needs, and the roles of the
/// built-in components (scheduler, controller manager and each controller, proxy, nodes). Every object carries
/// `kubernetes.io/bootstrapping: rbac-defaults` and `rbac.authorization.kubernetes.io/autoupdate: "true"`; the
/// server adds what is missing from them at every start unless a user set autoupdate to "false".
public enum BootstrapPolicy {
    public static let autoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate"
    public static let bootstrappingLabel = "kubernetes.io/bootstrapping"
    static let rbacGroup = "rbac.authorization.k8s.io"

    static let read = ["get", "list", "watch"]
    static let write = ["create", "update", "patch", "delete", "deletecollection"]
    static let readWrite = read + write
    static let readUpdate = ["get", "list", "watch", "update", "patch"]

    static func rule(_ verbs: [String], _ groups: [String], _ resources: [String], names: [String] = []) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: groups, resources: resources, resourceNames: names)
    }

    static func urls(_ verbs: [String], _ urls: [String]) -> PolicyRule {
        PolicyRule(verbs: verbs, nonResourceURLs: urls)
    }

    /// Upstream's `eventsRule()`: components record Events in both groups.
    static let events = rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"])

    // MARK: Cluster roles

    static let aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
    static let aggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit"
    static let aggregateToView = "rbac.authorization.k8s.io/aggregate-to-view"

    /// The node agents' rules (upstream's `NodeRules()`): what `system:nodes` needs to run pods.
    public static let nodeRules: [PolicyRule] = [
        rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
        rule(read, [""], ["services"]),
        rule(["create", "get", "list", "watch"], [""], ["nodes"]),
        rule(["update", "patch"], [""], ["nodes/status"]),
        rule(["update", "patch"], [""], ["nodes"]),
        rule(["create", "update", "patch"], [""], ["events"]),
        rule(read, [""], ["pods"]),
        rule(["create", "delete"], [""], ["pods"]),
        rule(["update", "patch"], [""], ["pods/status"]),
        rule(["create"], [""], ["pods/eviction"]),
        rule(read, [""], ["secrets", "configmaps"]),
        rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
        rule(["get"], [""], ["endpoints"]),
        rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
        rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
        rule(["get"], ["storage.k8s.io"], ["volumeattachments"]),
        rule(["get", "update", "patch"], [""], ["persistentvolumeclaims/status"]),
        rule(["create"], [""], ["serviceaccounts/token"]),
        rule(["get", "watch", "list"], ["storage.k8s.io"], ["csidrivers"]),
        rule(["get", "create", "update", "patch", "delete"], ["storage.k8s.io"], ["csinodes"]),
        rule(["get", "list", "watch"], ["node.k8s.io"], ["runtimeclasses"]),
    ]

    public static let clusterRoles: [JSONValue] = [
        role("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
        role("system:discovery", [urls(["get"], ["/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*",
                                                 "/api", "/api/*", "/apis", "/apis/*"])]),
        role("system:monitoring", [urls(["get"], ["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"])]),
        role("system:basic-user", [rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                                   rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
        role("system:public-info-viewer", [urls(["get"], ["/livez", "/readyz", "/healthz", "/version", "/version/"])]),
        role("admin", [], aggregateFrom: aggregateToAdmin),
        role("edit", [], labels: [aggregateToAdmin: "true"], aggregateFrom: aggregateToEdit),
        role("view", [], labels: [aggregateToEdit: "true"], aggregateFrom: aggregateToView),
        role("system:aggregate-to-admin", [
            rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
            rule(readWrite, [rbacGroup], ["roles", "rolebindings"]),
        ], labels: [aggregateToAdmin: "true"]),
        role("system:aggregate-to-edit", [
            rule(read, [""], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
            rule(["impersonate"], [""], ["serviceaccounts"]),
            rule(write, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
            rule(["create"], [""], ["pods/eviction"]),
            rule(write, [""], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy",
                               "persistentvolumeclaims", "configmaps", "secrets"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
            rule(write, ["apps"], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
                                   "deployments/rollback", "replicasets", "replicasets/scale"]),
            rule(write, ["autoscaling"], ["horizontalpodautoscalers"]),
            rule(write, ["batch"], ["jobs", "cronjobs"]),
            rule(write, ["extensions"], ["daemonsets", "deployments", "deployments/scale", "deployments/rollback", "ingresses",
                                         "replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"]),
            rule(write, ["policy"], ["poddisruptionbudgets"]),
            rule(write, ["networking.k8s.io"], ["networkpolicies", "ingresses"]),
        ], labels: [aggregateToEdit: "true"]),
        role("system:aggregate-to-view", [
            rule(read, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status",
                              "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]),
            rule(read, [""], ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
                              "namespaces/status", "replicationcontrollers/status", "pods/log"]),
            rule(read, [""], ["namespaces"]),
            rule(read, ["discovery.k8s.io"], ["endpointslices"]),
            rule(read, ["apps"], ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets",
                                  "daemonsets/status", "deployments", "deployments/status", "deployments/scale", "replicasets",
                                  "replicasets/status", "replicasets/scale"]),
            rule(read, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            rule(read, ["batch"], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
            rule(read, ["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                                        "ingresses", "ingresses/status", "replicasets", "replicasets/scale", "replicasets/status",
                                        "replicationcontrollers/scale", "networkpolicies"]),
            rule(read, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            rule(read, ["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"]),
        ], labels: [aggregateToView: "true"]),
        role("system:heapster", [rule(read, [""], ["events", "pods", "nodes", "namespaces"]), rule(read, ["extensions"], ["deployments"])]),
        role("system:node", nodeRules),
        role("system:node-problem-detector", [rule(["get"], [""], ["nodes"]), rule(["patch"], [""], ["nodes/status"]), events]),
        role("system:kubelet-api-admin", [
            rule(["get", "list", "watch"], [""], ["nodes"]),
            rule(["proxy"], [""], ["nodes"]),
            rule(["*"], [""], ["nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log", "nodes/configz", "nodes/healthz", "nodes/pods"]),
        ]),
        role("system:node-bootstrapper", [rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"])]),
        role("system:auth-delegator", [rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
                                       rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])]),
        role("system:kube-aggregator", [rule(read, [""], ["services", "endpoints"])]),
        role("system:kube-controller-manager", [
            events,
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "update"], ["coordination.k8s.io"], ["leases"], names: ["kube-controller-manager"]),
            rule(["create"], [""], ["secrets", "serviceaccounts"]),
            rule(["delete"], [""], ["secrets"]),
            rule(["get"], [""], ["namespaces", "secrets", "serviceaccounts", "configmaps"]),
            rule(["update"], [""], ["secrets", "serviceaccounts"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            rule(["list", "watch"], ["*"], ["*"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
        ]),
        role("system:kube-dns", [rule(["list", "watch"], [""], ["endpoints", "services"])]),
        role("system:persistent-volume-provisioner", [
            rule(["get", "list", "watch", "create", "delete"], [""], ["persistentvolumes"]),
            rule(["get", "list", "watch", "update"], [""], ["persistentvolumeclaims"]),
            rule(read, ["storage.k8s.io"], ["storageclasses"]),
            rule(["watch"], [""], ["events"]),
            events,
        ]),
        role("system:certificates.k8s.io:certificatesigningrequests:nodeclient",
             [rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"])]),
        role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
             [rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"])]),
        role("system:volume-scheduler", [
            rule(readUpdate, [""], ["persistentvolumes"]),
            rule(read, ["storage.k8s.io"], ["storageclasses"]),
            rule(readUpdate, [""], ["persistentvolumeclaims"]),
        ]),
        role("system:certificates.k8s.io:legacy-unknown-approver",
             [rule(["approve"], ["certificates.k8s.io"], ["signers"], names: ["kubernetes.io/legacy-unknown"])]),
        role("system:certificates.k8s.io:kubelet-serving-approver",
             [rule(["approve"], ["certificates.k8s.io"], ["signers"], names: ["kubernetes.io/kubelet-serving"])]),
        role("system:certificates.k8s.io:kube-apiserver-client-approver",
             [rule(["approve"], ["certificates.k8s.io"], ["signers"], names: ["kubernetes.io/kube-apiserver-client"])]),
        role("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
             [rule(["approve"], ["certificates.k8s.io"], ["signers"], names: ["kubernetes.io/kube-apiserver-client-kubelet"])]),
        role("system:service-account-issuer-discovery", [urls(["get"], ["/.well-known/openid-configuration", "/.well-known/openid-configuration/",
                                                                         "/openid/v1/jwks", "/openid/v1/jwks/"])]),
        role("system:node-proxier", [
            rule(["list", "watch"], [""], ["services", "endpoints"]),
            rule(["get", "list", "watch"], [""], ["nodes"]),
            events,
            rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
        ]),
        // What the cluster DNS reads (CoreDNS's own role has the same for Services and EndpointSlices).
        role("system:tug:cluster-dns", [
            rule(["list", "watch"], [""], ["services"]),
            rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
        ]),
        // What a node's NetworkPolicy enforcement reads (kube-router's own role): policies, and the pods and
        // namespaces their selectors name, across the cluster.
        role("system:tug:network-policy-agent", [
            rule(["list", "watch"], ["networking.k8s.io"], ["networkpolicies"]),
            rule(["list", "watch"], [""], ["pods", "namespaces"]),
        ]),
        role("system:kube-scheduler", [
            events,
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "update"], ["coordination.k8s.io"], ["leases"], names: ["kube-scheduler"]),
            rule(read, [""], ["nodes"]),
            rule(["get", "list", "watch", "delete"], [""], ["pods"]),
            rule(["create"], [""], ["pods/binding", "bindings"]),
            rule(["patch", "update"], [""], ["pods/status"]),
            rule(read, [""], ["services", "replicationcontrollers"]),
            rule(read, ["apps", "extensions"], ["replicasets"]),
            rule(read, ["apps"], ["statefulsets"]),
            rule(read, ["policy"], ["poddisruptionbudgets"]),
            rule(read, [""], ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            rule(read, ["storage.k8s.io"], ["csinodes"]),
            rule(read, [""], ["namespaces"]),
            rule(read, ["storage.k8s.io"], ["csidrivers"]),
            rule(read, ["storage.k8s.io"], ["csistoragecapacities"]),
        ]),
    ] + ControllerPolicy.clusterRoles

    // MARK: Cluster role bindings

    public static let clusterRoleBindings: [JSONValue] = [
        binding("cluster-admin", subjects: [group(UserInfo.mastersGroup)]),
        binding("system:monitoring", subjects: [group("system:monitoring")]),
        binding("system:discovery", subjects: [group(UserInfo.authenticatedGroup)]),
        binding("system:basic-user", subjects: [group(UserInfo.authenticatedGroup)]),
        binding("system:public-info-viewer", subjects: [group(UserInfo.authenticatedGroup), group(UserInfo.unauthenticatedGroup)]),
        binding("system:node-proxier", subjects: [user(UserInfo.kubeProxy.name)]),
        binding("system:kube-controller-manager", subjects: [user(UserInfo.kubeControllerManager.name)]),
        binding("system:kube-dns", subjects: [serviceAccount("kube-system", "kube-dns")]),
        binding("system:kube-scheduler", subjects: [user(UserInfo.kubeScheduler.name)]),
        binding("system:volume-scheduler", subjects: [user(UserInfo.kubeScheduler.name)]),
        // Upstream keeps this binding without subjects: the Node authorizer serves nodes instead.
        binding("system:node", subjects: []),
        // Nodes are authorized by the Node authorizer; the service proxy of a joined agent uses the node's
        // certificate, so nodes also read what kube-proxy reads.
        binding("system:tug:node-proxier", role: "system:node-proxier", subjects: [group("system:nodes")]),
        binding("system:tug:network-policy-agent", subjects: [group("system:nodes")]),
        binding("system:tug:cluster-dns", subjects: [serviceAccount("kube-system", "kube-dns")]),
        // Joining: the join token's bootstrap identity may request a node client certificate, which is approved
        // automatically (kubeadm's kubelet-bootstrap and node-autoapprove bindings); nodes renew their own.
        binding("system:tug:node-bootstrapper", role: "system:node-bootstrapper", subjects: [group("system:bootstrappers")]),
        binding("system:tug:node-autoapprove-bootstrap", role: "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                subjects: [group("system:bootstrappers")]),
        binding("system:tug:node-autoapprove-certificate-rotation", role: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                subjects: [group("system:nodes")]),
        // The API server's own identity on node agents' endpoints (logs, exec, attach, port-forward).
        binding("system:tug:kube-apiserver-kubelet-client", role: "system:kubelet-api-admin", subjects: [user(UserInfo.apiServerKubeletClient.name)]),
        binding("system:service-account-issuer-discovery", subjects: [group("system:serviceaccounts")]),
    ] + ControllerPolicy.clusterRoleBindings

    // MARK: Builders

    static func metadata(_ name: String, labels: [String: String] = [:]) -> JSONValue {
        var allLabels: JSONObject = [bootstrappingLabel: "rbac-defaults"]
        for (key, value) in labels { allLabels[key] = .string(value) }
        return ["name": .string(name), "labels": .object(allLabels), "annotations": [autoUpdateAnnotation: "true"]]
    }

    static func role(_ name: String, _ rules: [PolicyRule], labels: [String: String] = [:], aggregateFrom: String? = nil) -> JSONValue {
        var object: JSONValue = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": metadata(name, labels: labels),
                                 "rules": .array(rules.map(\.json))]
        if let aggregateFrom {
            object["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": [aggregateFrom: "true"]]]]
        }
        return object
    }

    static func binding(_ name: String, role: String? = nil, subjects: [JSONValue]) -> JSONValue {
        ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": metadata(name),
         "roleRef": ["apiGroup": .string(rbacGroup), "kind": "ClusterRole", "name": .string(role ?? name)],
         "subjects": .array(subjects)]
    }

    static func user(_ name: String) -> JSONValue { ["apiGroup": .string(rbacGroup), "kind": "User", "name": .string(name)] }
    static func group(_ name: String) -> JSONValue { ["apiGroup": .string(rbacGroup), "kind": "Group", "name": .string(name)] }
    static func serviceAccount(_ namespace: String, _ name: String) -> JSONValue {
        ["apiGroup": "", "kind": "ServiceAccount", "name": .string(name), "namespace": .string(namespace)]
    }
}
