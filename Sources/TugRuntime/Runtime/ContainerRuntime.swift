import TugAPIMachinery
public import TugCNI
import TugOS

/// A pod sandbox as the runtime sees it: the namespaces a pod's containers share, held by a pause process.
public struct SandboxConfig: Sendable, Hashable {
    public var podUID: String
    public var name: String
    public var namespace: String
    public var attempt: Int
    public var hostname: String
    /// `/etc/resolv.conf` contents for the pod.
    public var resolvConf: String
    /// Extra `/etc/hosts` lines (hostAliases).
    public var hostAliases: [String] = []
    public var hostNetwork = false
    public var portMappings: [PortMapping] = []
    /// The most processes the pod's containers may run together (the kubelet's podPidsLimit); nil for no limit.
    public var pidsLimit: Int64?

    /// A hostPort mapping, as the portmap plugin takes it.
    public typealias PortMapping = CNINetwork.PortMapping

    public init(podUID: String, name: String, namespace: String, attempt: Int, hostname: String, resolvConf: String) {
        self.podUID = podUID
        self.name = name
        self.namespace = namespace
        self.attempt = attempt
        self.hostname = hostname
        self.resolvConf = resolvConf
    }
}

public struct SandboxInfo: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable { case ready, notReady }
    public var id: String
    public var podUID: String
    public var name: String
    public var namespace: String
    public var attempt: Int
    public var createdAt: String
    public var state: State
    public var ip: String?
    public var pid: Int32
    public var monitorPID: Int32
    public var hostNetwork: Bool
    public var portMappings: [SandboxConfig.PortMapping]
}

/// One container to start in a sandbox, in runtime terms: the image is already resolved, the Kubernetes fields
/// (command/args/env/securityContext/resources/volumes) already turned into a process, mounts and limits.
public struct ContainerConfig: Sendable, Hashable {
    public var name: String
    public var attempt: Int
    public var image: ResolvedImage
    public var process: ContainerSpec.Process
    public var mounts: [ContainerSpec.Mount] = []
    public var resources = ContainerSpec.Resources()
    public var privileged = false
    public var readOnlyRoot = false
    /// `capabilities.add: [ALL]`: every capability the node holds, as privileged gets (containerd's "all current").
    public var allCapabilities = false
    /// `procMount: Unmasked`.
    public var unmaskedProc = false
    public var seccomp = SeccompProfile.unconfined
    /// hostPID / hostIPC: the container stays in the host's PID / IPC namespace instead of its own / the pod's.
    public var hostPID = false
    public var hostIPC = false
    /// `tty`, `stdin` and `stdinOnce` of the container: its stdio is then held open by the monitor for attach.
    public var tty = false
    public var stdin = false
    public var stdinOnce = false
    /// securityContext.runAsUser/runAsGroup; nil takes the image's `User` (a name is looked up in its /etc/passwd).
    public var runAsUser: UInt32?
    public var runAsGroup: UInt32?
    public var logPath: String
    /// Kubernetes-level labels kept with the container (e.g. the spec hash that decides restarts).
    public var labels: [String: String] = [:]

    public init(name: String, attempt: Int, image: ResolvedImage, process: ContainerSpec.Process, logPath: String) {
        self.name = name
        self.attempt = attempt
        self.image = image
        self.process = process
        self.logPath = logPath
    }
}

public struct ContainerInfo: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable { case created, running, exited, unknown }
    public var id: String
    public var sandboxID: String
    public var podUID: String
    public var name: String
    public var attempt: Int
    public var image: String
    public var imageID: String
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    public var state: State
    public var exitCode: Int32?
    /// Why it ended: `OOMKilled`, `Error` or `Completed` (as the kubelet reports `reason`).
    public var reason: String?
    public var pid: Int32
    /// The `tug __monitor` process that is the container's parent and writes its log.
    public var monitorPID: Int32
    public var logPath: String
    public var labels: [String: String]
}

/// The container runtime as the node agent uses it (the role CRI plays for the kubelet). The Linux runtime uses
/// runc, overlayfs and CNI; tests use a scripted fake.
public protocol ContainerRuntime: Sendable {
    func runSandbox(_ config: SandboxConfig) async throws -> SandboxInfo
    /// Kills the sandbox's containers and pause process and detaches its network; keeps its record.
    func stopSandbox(_ id: String) async throws
    /// Removes a stopped sandbox and its record.
    func removeSandbox(_ id: String) async throws
    func sandboxes() async throws -> [SandboxInfo]

    /// Creates and starts a container; returns it running (or exited, if it ended at once).
    func startContainer(_ config: ContainerConfig, in sandbox: SandboxInfo) async throws -> ContainerInfo
    /// SIGTERM, then SIGKILL after the grace period.
    func stopContainer(_ id: String, gracePeriod: Duration) async throws
    func removeContainer(_ id: String) async throws
    /// Every container, as last seen (no side effects: safe from any task).
    func containers() async throws -> [ContainerInfo]
    /// One pod's containers, with those that exited since the last look finalised (runc state and cgroup removed,
    /// root unmounted, exit recorded). Only the pod's own worker calls this, so a container is never finalised
    /// and removed at the same time.
    func containers(ofPod podUID: String) async throws -> [ContainerInfo]

    /// Runs a command in a running container and collects its output (exec probes, preStop hooks).
    func exec(_ id: String, command: [String], timeout: Duration) async throws -> CommandResult

    /// Starts an interactive command in a running container (`kubectl exec`), on pipes or a terminal.
    /// `size` is the client's terminal (width, height) when it is known before the command starts.
    func openExec(_ id: String, command: [String], tty: Bool, stdin: Bool, size: (width: UInt16, height: UInt16)?) async throws -> any ExecSession

    /// Joins a running container's own stdio (`kubectl attach`): its output from now on, and its stdin if it has one.
    func openAttach(_ id: String) async throws -> any ExecSession
}
