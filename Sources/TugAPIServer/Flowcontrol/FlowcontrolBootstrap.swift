import TugAPIMachinery

/// Upstream's bootstrap configuration for API Priority and Fairness (Kubernetes 1.32): the mandatory `exempt` and
/// `catch-all` objects and the suggested ones. Each carries `apf.kubernetes.io/autoupdate-spec: "true"`, so the
/// server keeps its spec current until a user sets the annotation to "false".
enum FlowcontrolBootstrap {
    static let autoUpdateAnnotation = "apf.kubernetes.io/autoupdate-spec"
    static let mandatoryPriorityLevels: Set<String> = ["exempt", "catch-all"]
    static let mandatoryFlowSchemas: Set<String> = ["exempt", "catch-all"]

    static let priorityLevels: [JSONValue] = [
        level("exempt", ["type": "Exempt", "exempt": ["nominalConcurrencyShares": 0, "lendablePercent": 0]]),
        level("catch-all", limited(shares: 5, lendable: 0, queuing: nil)),
        level("system", limited(shares: 30, lendable: 33, queuing: (64, 6, 50))),
        level("node-high", limited(shares: 40, lendable: 25, queuing: (64, 6, 50))),
        level("leader-election", limited(shares: 10, lendable: 0, queuing: (16, 4, 50))),
        level("workload-high", limited(shares: 40, lendable: 50, queuing: (128, 6, 50))),
        level("workload-low", limited(shares: 100, lendable: 90, queuing: (128, 6, 50))),
        level("global-default", limited(shares: 20, lendable: 50, queuing: (128, 6, 50))),
    ]

    static let flowSchemas: [JSONValue] = [
        schema("exempt", level: "exempt", precedence: 1, distinguisher: nil, [everything(groups(["system:masters"]))]),
        schema("probes", level: "exempt", precedence: 2, distinguisher: nil, [
            ["subjects": groups(["system:unauthenticated", "system:authenticated"]),
             "nonResourceRules": [["verbs": ["get"], "nonResourceURLs": ["/healthz", "/readyz", "/livez"]]]],
        ]),
        schema("system-leader-election", level: "leader-election", precedence: 100, distinguisher: "ByUser", [
            ["subjects": .array(users(["system:kube-controller-manager", "system:kube-scheduler"]).arrayValue! + kubeSystemServiceAccounts(["*"]).arrayValue!),
             "resourceRules": [resourceRule(["get", "create", "update"], groups: ["coordination.k8s.io"], resources: ["leases"], namespaces: ["*"])]],
        ]),
        schema("endpoint-controller", level: "workload-high", precedence: 150, distinguisher: "ByUser", [
            ["subjects": .array(users(["system:kube-controller-manager"]).arrayValue!
                                + kubeSystemServiceAccounts(["endpoint-controller", "endpointslicemirroring-controller"]).arrayValue!),
             "resourceRules": [resourceRule(["get", "create", "update"], groups: [""], resources: ["endpoints"], namespaces: ["*"])]],
        ]),
        schema("workload-leader-election", level: "leader-election", precedence: 200, distinguisher: "ByUser", [
            ["subjects": kubeSystemServiceAccounts(["*"]),
             "resourceRules": [resourceRule(["get", "create", "update"], groups: [""], resources: ["endpoints", "configmaps"], namespaces: ["*"]),
                               resourceRule(["get", "create", "update"], groups: ["coordination.k8s.io"], resources: ["leases"], namespaces: ["*"])]],
        ]),
        schema("system-node-high", level: "node-high", precedence: 400, distinguisher: "ByUser", [
            ["subjects": groups(["system:nodes"]),
             "resourceRules": [resourceRule(["*"], groups: [""], resources: ["nodes", "nodes/status"], namespaces: ["*"], clusterScope: true),
                               resourceRule(["*"], groups: ["coordination.k8s.io"], resources: ["leases"], namespaces: ["*"])]],
        ]),
        schema("system-nodes", level: "system", precedence: 500, distinguisher: "ByUser", [everything(groups(["system:nodes"]))]),
        schema("kube-controller-manager", level: "workload-high", precedence: 800, distinguisher: "ByNamespace",
               [everything(users(["system:kube-controller-manager"]))]),
        schema("kube-scheduler", level: "workload-high", precedence: 800, distinguisher: "ByNamespace",
               [everything(users(["system:kube-scheduler"]))]),
        schema("kube-system-service-accounts", level: "workload-high", precedence: 900, distinguisher: "ByNamespace",
               [everything(kubeSystemServiceAccounts(["*"]))]),
        schema("service-accounts", level: "workload-low", precedence: 9000, distinguisher: "ByUser",
               [everything(groups(["system:serviceaccounts"]))]),
        schema("global-default", level: "global-default", precedence: 9900, distinguisher: "ByUser",
               [everything(groups(["system:unauthenticated", "system:authenticated"]))]),
        schema("catch-all", level: "catch-all", precedence: 10_000, distinguisher: "ByUser",
               [everything(groups(["system:unauthenticated", "system:authenticated"]))]),
    ]

    // MARK: Builders

    static func metadata(_ name: String) -> JSONValue {
        ["name": .string(name), "annotations": [autoUpdateAnnotation: "true"]]
    }

    static func level(_ name: String, _ spec: JSONValue) -> JSONValue {
        ["apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration", "metadata": metadata(name), "spec": spec]
    }

    static func limited(shares: Int64, lendable: Int64, queuing: (queues: Int64, handSize: Int64, queueLengthLimit: Int64)?) -> JSONValue {
        var response: JSONValue = ["type": "Reject"]
        if let q = queuing {
            response = ["type": "Queue", "queuing": ["queues": .int(q.queues), "handSize": .int(q.handSize), "queueLengthLimit": .int(q.queueLengthLimit)]]
        }
        return ["type": "Limited", "limited": ["nominalConcurrencyShares": .int(shares), "lendablePercent": .int(lendable), "limitResponse": response]]
    }

    static func schema(_ name: String, level: String, precedence: Int64, distinguisher: String?, _ rules: [JSONValue]) -> JSONValue {
        var spec: JSONValue = ["priorityLevelConfiguration": ["name": .string(level)], "matchingPrecedence": .int(precedence), "rules": .array(rules)]
        if let distinguisher { spec["distinguisherMethod"] = ["type": .string(distinguisher)] }
        return ["apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": metadata(name), "spec": spec]
    }

    /// Subjects with every verb on every resource (cluster-scoped or in any namespace) and every non-resource URL.
    static func everything(_ subjects: JSONValue) -> JSONValue {
        ["subjects": subjects,
         "resourceRules": [resourceRule(["*"], groups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true)],
         "nonResourceRules": [["verbs": ["*"], "nonResourceURLs": ["*"]]]]
    }

    static func resourceRule(_ verbs: [String], groups: [String], resources: [String], namespaces: [String], clusterScope: Bool = false) -> JSONValue {
        var rule: JSONValue = ["verbs": strings(verbs), "apiGroups": strings(groups), "resources": strings(resources), "namespaces": strings(namespaces)]
        if clusterScope { rule["clusterScope"] = true }
        return rule
    }

    static func groups(_ names: [String]) -> JSONValue {
        .array(names.map { ["kind": "Group", "group": ["name": .string($0)]] })
    }

    static func users(_ names: [String]) -> JSONValue {
        .array(names.map { ["kind": "User", "user": ["name": .string($0)]] })
    }

    static func kubeSystemServiceAccounts(_ names: [String]) -> JSONValue {
        .array(names.map { ["kind": "ServiceAccount", "serviceAccount": ["namespace": "kube-system", "name": .string($0)]] })
    }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
}
