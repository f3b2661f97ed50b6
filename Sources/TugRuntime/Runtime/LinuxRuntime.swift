import Foundation
import TugAPIMachinery
import TugCNI
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// The container runtime on this machine: sandboxes are pause containers holding a pod's network, IPC and UTS
/// namespaces, attached to the CNI pod network; containers are OCI bundles over an overlayfs of the image's layers,
/// run by runc through one `tug __monitor` each. All state lives under `root` (`<data-dir>/agent`).
public final class LinuxRuntime: ContainerRuntime {
    public let root: String
    let records: RuntimeRecords
    let runc: Runc
    let monitor: ContainerMonitor
    let layers: LayerStore
    let network: CNINetwork
    /// The pod's `lo`, brought up by the loopback plugin as containerd does.
    let loopback: CNINetwork
    let runner: any CommandRunner
    /// Parent of every pod cgroup (cgroupfs layout: `/tugboat/pod<uid>/<container id>`).
    let cgroupParent: String
    /// The pod bridge; each pod CIDR has its own (a bridge carries one gateway address).
    public let bridge: String
    /// The capabilities this process may pass on (a privileged container gets exactly these).
    let hostBoundingSet = HostPrivileges.boundingSet()

    /// `podCIDR` nil reuses the range this root was last run with (for `tug reset`).
    public init(root: String, images: ImageStore, podCIDR: String?, runcBinary: String = "/usr/sbin/runc",
                cgroupParent: String = "/tugboat", logMaxBytes: Int = 10 << 20, logMaxFiles: Int = 5,
                runner: any CommandRunner = ProcessCommandRunner()) throws {
        self.root = root
        self.runner = runner
        self.cgroupParent = cgroupParent
        let settingsPath = "\(root)/cni/network.json"
        let podCIDR = podCIDR ?? (FileManager.default.contents(atPath: settingsPath).flatMap { try? JSONParser.parseValue([UInt8]($0)) }?["podCIDR"].stringValue
                                  ?? "10.42.0.0/24")
        bridge = Self.bridgeName(for: podCIDR)
        // The runtime's root holds container configs (their environment carries Secrets) and pod volumes: root only.
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(root, 0o700)
        try FileManager.default.createDirectory(atPath: "\(root)/cni", withIntermediateDirectories: true)
        try Data(JSONWriter.bytes(["podCIDR": .string(podCIDR), "bridge": .string(bridge)])).write(to: URL(fileURLWithPath: settingsPath), options: .atomic)
        records = try RuntimeRecords(root: root)
        runc = Runc(binary: runcBinary, root: "\(root)/runc", runner: runner)
        var monitor = ContainerMonitor(runc: runc, runner: runner)
        monitor.logMaxBytes = logMaxBytes
        monitor.logMaxFiles = logMaxFiles
        self.monitor = monitor
        layers = try LayerStore(root: "\(images.blobs.root)/layers", blobs: images.blobs, runner: runner)
        network = try CNINetwork(configList: CNINetwork.podNetwork(podCIDR: podCIDR, bridge: bridge, ipamDirectory: "\(root)/cni/ipam"),
                                 cacheDirectory: "\(root)/cni/results", runner: runner)
        loopback = try CNINetwork(configList: CNINetwork.loopback, cacheDirectory: "\(root)/cni/results", runner: runner)
        try FileManager.default.createDirectory(atPath: "\(root)/runc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Self.preparePauseRoot("\(root)/pause")
    }

    /// Where the monitors' unix sockets live: `/run/tug/<8 hex of the root's hash>`, short whatever the data dir
    /// (a socket path must fit in 108 bytes), and on tmpfs like the containers' other run-time state.
    public var socketDirectory: String { Self.socketDirectory(root: root) }

    public static func socketDirectory(root: String) -> String {
        "/run/tug/" + Digest(of: Array(root.utf8)).hex.prefix(8)
    }

    /// `tug0` for the default range 10.42.0.0/24, `tug<8 hex of the range's hash>` for any other.
    public static func bridgeName(for podCIDR: String) -> String {
        podCIDR == "10.42.0.0/24" ? "tug0" : "tug" + Digest(of: Array(podCIDR.utf8)).hex.prefix(8)
    }

    /// Turns on what pod networking needs from the kernel: forwarding between the bridge's ports, and bridged
    /// traffic passing through iptables (so Service rules apply to pod-to-pod traffic).
    public static func enableForwarding() throws {
        for (path, value) in [("/proc/sys/net/ipv4/ip_forward", "1"), ("/proc/sys/net/bridge/bridge-nf-call-iptables", "1")] {
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw RuntimeError("cannot write \(path) (bridge netfilter needs the br_netfilter module)")
            }
            try handle.write(contentsOf: Data(value.utf8))
            try handle.close()
        }
    }

    /// The pause container's root: busybox-static as `/bin/sleep` and the mount points, read-only when running.
    static func preparePauseRoot(_ directory: String) throws {
        let rootfs = "\(directory)/rootfs"
        let binary = "\(rootfs)/bin/sleep"
        if FileManager.default.fileExists(atPath: binary) { return }
        for sub in ["bin", "proc", "dev", "sys", "etc"] {
            try FileManager.default.createDirectory(atPath: "\(rootfs)/\(sub)", withIntermediateDirectories: true)
        }
        guard FileManager.default.fileExists(atPath: "/usr/bin/busybox") else {
            throw RuntimeError("/usr/bin/busybox not found: install busybox-static (make deps)")
        }
        try? FileManager.default.removeItem(atPath: "\(binary).tmp")
        try FileManager.default.copyItem(atPath: "/usr/bin/busybox", toPath: "\(binary).tmp")
        guard rename("\(binary).tmp", binary) == 0 else { throw RuntimeError("install \(binary)") }
    }

    // MARK: Sandboxes

    public func runSandbox(_ config: SandboxConfig) async throws -> SandboxInfo {
        let id = RuntimeRecords.newID()
        let directory = records.sandboxDirectory(id)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var info = SandboxInfo(id: id, podUID: config.podUID, name: config.name, namespace: config.namespace, attempt: config.attempt,
                               createdAt: RuntimeRecords.now(), state: .notReady, ip: nil, pid: 0, monitorPID: 0, hostNetwork: config.hostNetwork,
                               portMappings: config.portMappings)
        try records.save(info, in: directory)
        try Data(config.resolvConf.utf8).write(to: URL(fileURLWithPath: "\(directory)/resolv.conf"))
        let hostname = config.hostNetwork ? Self.hostHostname() : config.hostname
        try Data("\(hostname)\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/hostname"))

        var process = ContainerSpec.Process(args: ["/bin/sleep", "inf"], env: [])
        process.capabilities = []
        var namespaces: [ContainerSpec.Namespace] = [.new("ipc"), .new("pid"), .new("mount")]
        if !config.hostNetwork { namespaces += [.new("network"), .new("uts")] }
        var spec = ContainerSpec(process: process, rootPath: "\(root)/pause/rootfs", namespaces: namespaces,
                                 cgroupsPath: "\(cgroupParent)/pod\(config.podUID)/\(id)")
        spec.readOnlyRoot = true
        spec.hostname = config.hostNetwork ? nil : config.hostname
        spec.resources.cpuShares = 2
        if let limit = config.pidsLimit { try limitPids(of: "\(cgroupParent)/pod\(config.podUID)", to: limit) }
        try Self.writeConfig(spec, in: directory)

        let started = try await monitor.start(id: id, files: .init(bundle: directory, log: "\(directory)/pause.log"))
        info.pid = started.pid
        info.monitorPID = started.monitor
        try records.save(info, in: directory)
        if !config.hostNetwork {
            _ = try await loopback.add(containerID: id, netns: "/proc/\(info.pid)/ns/net", ifName: "lo")
            let result = try await network.add(containerID: id, netns: "/proc/\(info.pid)/ns/net", portMappings: config.portMappings)
            info.ip = result["ips"][0]["address"].stringValue.map { String($0.split(separator: "/")[0]) }
        } else {
            info.ip = nil
        }
        try writeHosts(directory: directory, hostname: hostname, ip: info.ip, aliases: config.hostAliases)
        info.state = .ready
        try records.save(info, in: directory)
        return info
    }

    func writeHosts(directory: String, hostname: String, ip: String?, aliases: [String]) throws {
        var hosts = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        hosts += "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        if let ip { hosts += "\(ip)\t\(hostname)\n" }
        if !aliases.isEmpty { hosts += "\n# Entries added by HostAliases.\n" + aliases.map { $0 + "\n" }.joined() }
        try Data(hosts.utf8).write(to: URL(fileURLWithPath: "\(directory)/hosts"))
    }

    static func hostHostname() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    public func stopSandbox(_ id: String) async throws {
        let directory = records.sandboxDirectory(id)
        guard var info = records.load(SandboxInfo.self, in: directory) else { return }
        for container in try await containers() where container.sandboxID == id && container.state == .running {
            try await stopContainer(container.id, gracePeriod: .zero)
        }
        if !info.hostNetwork {
            let alive = ContainerMonitor.isAlive(info.pid)
            try await network.delete(containerID: id, netns: alive ? "/proc/\(info.pid)/ns/net" : nil, portMappings: info.portMappings)
            try await loopback.delete(containerID: id, netns: alive ? "/proc/\(info.pid)/ns/net" : nil, ifName: "lo")
        }
        try await runc.kill(id, signal: "KILL")
        try await waitUntilGone(info.pid, timeout: .seconds(10))
        try await runc.delete(id)
        info.state = .notReady
        try records.save(info, in: directory)
    }

    public func removeSandbox(_ id: String) async throws {
        let directory = records.sandboxDirectory(id)
        guard let info = records.load(SandboxInfo.self, in: directory) else { return }
        if info.state == .ready { try await stopSandbox(id) }
        for container in try await containers() where container.sandboxID == id {
            try await removeContainer(container.id)
        }
        try await runc.delete(id)
        try FileManager.default.removeItem(atPath: directory)
        removeCgroups("\(cgroupParent)/pod\(info.podUID)")
    }

    public func sandboxes() async throws -> [SandboxInfo] {
        records.all(SandboxInfo.self, under: records.sandboxRoot).map { info in
            var info = info
            if info.state == .ready, !ContainerMonitor.isAlive(info.pid) { info.state = .notReady }
            return info
        }
    }

    /// A bundle's `config.json`, 0600: the process environment in it may carry Secrets' values.
    static func writeConfig(_ spec: ContainerSpec, in directory: String) throws {
        let path = "\(directory)/config.json"
        guard FileManager.default.createFile(atPath: path, contents: Data(JSONWriter.bytes(OCISpec.render(spec))), attributes: [.posixPermissions: 0o600]) else {
            throw RuntimeError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o600)
    }

    /// Caps the processes of a whole pod: `pids.max` on the pod's cgroup, the parent of its containers' own.
    func limitPids(of podCgroup: String, to limit: Int64) throws {
        let unified = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        let directory = unified ? "/sys/fs/cgroup\(podCgroup)" : "/sys/fs/cgroup/pids\(podCgroup)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let handle = FileHandle(forWritingAtPath: "\(directory)/pids.max") else {
            throw RuntimeError("cannot write \(directory)/pids.max (is the pids cgroup controller mounted?)")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(String(limit).utf8))
    }

    /// Removes a cgroup directory in every v1 hierarchy (after runc deleted the containers' own ones).
    func removeCgroups(_ path: String) {
        for controller in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            rmdir("/sys/fs/cgroup/\(controller)\(path)")
        }
    }

    // MARK: Waiting

    /// Polls until the monitor recorded the container's exit (it does once the init was reaped and the output
    /// drained) or both are gone, for at most `timeout`.
    @discardableResult
    func waitForExit(of files: ContainerMonitor.Files, _ info: ContainerInfo, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if ContainerMonitor.observe(files, pid: info.pid, monitor: info.monitorPID) != .running { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Polls until process `pid` is gone (a sandbox's pause process, which has no monitor), for at most `timeout`.
    func waitUntilGone(_ pid: Int32, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, ContainerMonitor.isAlive(pid) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
