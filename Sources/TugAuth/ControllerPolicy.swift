public import TugAPIMachinery

/// The controllers' identities and roles, as upstream's `controller_policy.go` with
/// `--use-service-account-credentials`: each controller in `tug server` calls the API as the service account
/// `kube-system/<name>` and holds only `system:controller:<name>`. Where tug's controller writes something its
/// upstream counterpart does not (a merge patch instead of an update), the rule says so.
public enum ControllerPolicy {
    public static let namespace = "kube-system"
    static let prefix = "system:controller:"
    typealias B = BootstrapPolicy

    public static let replicaSet = "replicaset-controller"
    public static let deployment = "deployment-controller"
    public static let statefulSet = "statefulset-controller"
    public static let daemonSet = "daemon-set-controller"
    public static let job = "job-controller"
    public static let cronJob = "cronjob-controller"
    public static let endpoints = "endpoint-controller"
    public static let endpointSlice = "endpointslice-controller"
    public static let service = "service-controller"
    public static let node = "node-controller"
    public static let taintEviction = "taint-eviction-controller"
    public static let garbageCollector = "generic-garbage-collector"
    public static let ingress = "tug-ingress-controller"

    /// The user a controller authenticates as.
    public static func user(_ controller: String) -> UserInfo {
        .serviceAccount(namespace: namespace, name: controller)
    }

    static let roles: [(name: String, rules: [PolicyRule])] = [
        (replicaSet, [
            B.rule(["get", "list", "watch", "update"], ["apps", "extensions"], ["replicasets"]),
            B.rule(["update"], ["apps", "extensions"], ["replicasets/status"]),
            B.rule(["update"], ["apps", "extensions"], ["replicasets/finalizers"]),
            B.rule(["list", "watch", "patch", "create", "delete"], [""], ["pods"]),
            B.events,
        ]),
        (deployment, [
            // tug records a rollout's revision annotations with a merge patch.
            B.rule(["get", "list", "watch", "update", "patch"], ["apps", "extensions"], ["deployments"]),
            B.rule(["update"], ["apps", "extensions"], ["deployments/status"]),
            B.rule(["update"], ["apps", "extensions"], ["deployments/finalizers"]),
            B.rule(["get", "list", "watch", "create", "update", "patch", "delete"], ["apps", "extensions"], ["replicasets"]),
            B.rule(["get", "list", "watch", "update"], [""], ["pods"]),
            B.events,
        ]),
        (statefulSet, [
            B.rule(["list", "watch"], [""], ["pods"]),
            B.rule(["get", "list", "watch"], ["apps"], ["statefulsets"]),
            B.rule(["update"], ["apps"], ["statefulsets/status"]),
            B.rule(["update"], ["apps"], ["statefulsets/finalizers"]),
            B.rule(["get", "create", "delete", "update", "patch"], [""], ["pods"]),
            B.rule(["get", "create", "delete", "update", "patch", "list", "watch"], ["apps"], ["controllerrevisions"]),
            B.rule(["get", "create"], [""], ["persistentvolumeclaims"]),
            B.rule(["update", "delete"], [""], ["persistentvolumeclaims"]),
            B.events,
        ]),
        (daemonSet, [
            B.rule(["get", "list", "watch"], ["apps", "extensions"], ["daemonsets"]),
            B.rule(["update"], ["apps", "extensions"], ["daemonsets/status"]),
            B.rule(["update"], ["apps", "extensions"], ["daemonsets/finalizers"]),
            B.rule(["list", "watch"], [""], ["nodes"]),
            B.rule(["list", "watch", "create", "delete", "patch"], [""], ["pods"]),
            B.rule(["create"], [""], ["pods/binding"]),
            B.rule(["get", "list", "watch", "create", "delete", "update", "patch"], ["apps"], ["controllerrevisions"]),
            B.events,
        ]),
        (job, [
            // tug's job controller also removes finished Jobs past ttlSecondsAfterFinished (upstream's
            // ttl-after-finished-controller).
            B.rule(["get", "list", "watch", "update", "patch", "delete"], ["batch"], ["jobs"]),
            B.rule(["update", "patch"], ["batch"], ["jobs/status"]),
            B.rule(["update"], ["batch"], ["jobs/finalizers"]),
            B.rule(["list", "watch", "create", "delete", "patch"], [""], ["pods"]),
            B.events,
        ]),
        (cronJob, [
            B.rule(["get", "list", "watch", "update"], ["batch"], ["cronjobs"]),
            B.rule(["get", "list", "watch", "create", "update", "delete", "patch"], ["batch"], ["jobs"]),
            B.rule(["update"], ["batch"], ["cronjobs/status"]),
            B.rule(["update"], ["batch"], ["cronjobs/finalizers"]),
            B.rule(["list", "delete"], [""], ["pods"]),
            B.events,
        ]),
        (endpoints, [
            B.rule(["get", "list", "watch"], [""], ["services", "pods"]),
            B.rule(["get", "list", "create", "update", "delete"], [""], ["endpoints"]),
            B.rule(["create"], [""], ["endpoints/restricted"]),
            B.events,
        ]),
        (endpointSlice, [
            B.rule(["get", "list", "watch"], [""], ["services", "pods", "nodes"]),
            B.rule(["update"], [""], ["services/finalizers"]),
            B.rule(["get", "list", "create", "update", "delete"], ["discovery.k8s.io"], ["endpointslices"]),
            B.events,
        ]),
        (service, [
            B.rule(["get", "list", "watch"], [""], ["services"]),
            B.rule(["patch", "update"], [""], ["services/status"]),
            B.rule(["list", "watch"], [""], ["nodes"]),
            B.events,
        ]),
        (node, [
            B.rule(["get", "list", "update", "delete", "patch"], [""], ["nodes"]),
            B.rule(["patch", "update"], [""], ["nodes/status"]),
            B.rule(["patch", "update"], [""], ["pods/status"]),
            B.rule(["list", "delete"], [""], ["pods"]),
            B.rule(["get"], ["coordination.k8s.io"], ["leases"]),
            B.events,
        ]),
        (taintEviction, [
            B.rule(["patch"], [""], ["pods/status"]),
            B.rule(["list", "watch", "get", "delete"], [""], ["pods"]),
            B.rule(["list", "watch", "get"], [""], ["nodes"]),
            B.events,
        ]),
        (garbageCollector, [
            B.rule(["get", "list", "watch", "patch", "update", "delete"], ["*"], ["*"]),
            B.events,
        ]),
        // tug's ingress proxy (k3s runs Traefik with a role of its own): it reads what it routes and reports the
        // address it serves on.
        (ingress, [
            B.rule(["get", "list", "watch"], [""], ["services", "endpoints", "secrets"]),
            B.rule(["get", "list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
            B.rule(["get", "list", "watch"], ["networking.k8s.io"], ["ingresses", "ingressclasses"]),
            B.rule(["update", "patch"], ["networking.k8s.io"], ["ingresses/status"]),
            B.events,
        ]),
    ]

    /// Every controller's service-account name.
    public static var controllers: [String] { roles.map(\.name) }

    static let clusterRoles: [JSONValue] = roles.map { B.role(prefix + $0.name, $0.rules) }

    static let clusterRoleBindings: [JSONValue] = roles.map {
        B.binding(prefix + $0.name, subjects: [B.serviceAccount(namespace, $0.name)])
    }
}
