/// How a node agent runs: its identity in the cluster and where it keeps things.
public struct AgentConfiguration: Sendable {
    public var nodeName: String
    /// The node's InternalIP; nil picks the address of the default route's interface.
    public var nodeIP: String?
    public var labels: [String: String] = [:]
    /// `key=value:Effect` or `key:Effect`.
    public var taints: [String] = []
    public var podCIDR = "10.42.0.0/24"
    /// `<data-dir>/agent`: runtime state, pod directories, CNI data.
    public var root: String
    /// `<data-dir>/images`.
    public var imagesRoot: String
    public var clusterDNS: [String] = []
    public var clusterDomain = "cluster.local"
    /// Port of the agent's HTTPS endpoint (logs, exec, attach), the kubelet's 10250.
    public var port = 10250
    public var maxPods = 110
    /// The node Lease's duration; it is renewed every quarter of it (the kubelet's nodeLeaseDurationSeconds).
    public var leaseDurationSeconds: Int64 = 40
    /// Container log rotation (the kubelet's containerLogMaxSize and containerLogMaxFiles).
    public var containerLogMaxBytes = 10 << 20
    public var containerLogMaxFiles = 5
    /// The most processes one pod may run (the kubelet's `--pod-max-pids`); nil for no limit.
    public var podPidsLimit: Int64?
    /// RuntimeDefault seccomp for containers that name no profile (the kubelet's `--seccomp-default`).
    public var seccompDefault = false

    public init(nodeName: String, root: String, imagesRoot: String) {
        self.nodeName = nodeName
        self.root = root
        self.imagesRoot = imagesRoot
    }
}
