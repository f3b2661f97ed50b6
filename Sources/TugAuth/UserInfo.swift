/// Who made a request, as authentication establishes it: a user name, uid, groups and extra attributes (what API
/// Priority and Fairness classifies on, and what authorization checks).
public struct UserInfo: Sendable, Hashable {
    public var name: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]

    public init(name: String, uid: String = "", groups: [String], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    public static let authenticatedGroup = "system:authenticated"
    public static let unauthenticatedGroup = "system:unauthenticated"
    /// Members of this group may do everything, whatever RBAC says (upstream's privileged group).
    public static let mastersGroup = "system:masters"
    public static let serviceAccountPrefix = "system:serviceaccount:"

    /// The cluster administrator: `system:masters`, whose requests are exempt from flow control.
    public static let admin = UserInfo(name: "admin", groups: [mastersGroup, authenticatedGroup])
    /// Who presents the node join token: a bootstrapper, which may only ask for a node's certificate.
    public static let nodeBootstrap = UserInfo(name: "system:bootstrap:tug-join", groups: ["system:bootstrappers", authenticatedGroup])
    /// A node agent, by its client certificate.
    public static func node(_ name: String) -> UserInfo { UserInfo(name: "system:node:\(name)", groups: ["system:nodes", authenticatedGroup]) }
    /// The API server when it calls node agents (kubeadm's `kube-apiserver-kubelet-client`).
    public static let apiServerKubeletClient = UserInfo(name: "kube-apiserver-kubelet-client", groups: [authenticatedGroup])
    /// A request without credentials (only the public paths are served to it).
    public static let anonymous = UserInfo(name: "system:anonymous", groups: [unauthenticatedGroup])

    /// A service account's user, with upstream's groups.
    public static func serviceAccount(namespace: String, name: String, uid: String = "") -> UserInfo {
        UserInfo(name: "\(serviceAccountPrefix)\(namespace):\(name)", uid: uid,
                 groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", authenticatedGroup])
    }

    /// The namespace and name of a service account's user name (`system:serviceaccount:ns:name`).
    public static func serviceAccountParts(_ userName: String) -> (namespace: String, name: String)? {
        guard userName.hasPrefix(serviceAccountPrefix) else { return nil }
        let parts = userName.dropFirst(serviceAccountPrefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// The scheduler's identity, as kube-scheduler's.
    public static let kubeScheduler = UserInfo(name: "system:kube-scheduler", groups: [authenticatedGroup])
    /// The controller manager's own identity (its shared informers), as kube-controller-manager's.
    public static let kubeControllerManager = UserInfo(name: "system:kube-controller-manager", groups: [authenticatedGroup])
    /// The service proxy's identity, as kube-proxy's.
    public static let kubeProxy = UserInfo(name: "system:kube-proxy", groups: [authenticatedGroup])
    /// The cluster DNS inside `tug server`, as CoreDNS runs: the kube-system/kube-dns service account.
    public static let clusterDNS = UserInfo.serviceAccount(namespace: "kube-system", name: "kube-dns")
}
