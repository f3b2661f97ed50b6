import TugAPIMachinery

/// What a container needs from the OCI runtime, in runtime terms (no Kubernetes types): the input of `OCISpec.render`.
public struct ContainerSpec: Sendable, Hashable {
    public struct Process: Sendable, Hashable {
        public var args: [String]
        public var env: [String]
        public var cwd: String = "/"
        public var uid: UInt32 = 0
        public var gid: UInt32 = 0
        public var additionalGids: [UInt32] = []
        public var terminal = false
        public var noNewPrivileges = true
        /// Capability names without the `CAP_` prefix, as Kubernetes spells them (`NET_ADMIN`).
        public var capabilities: [String] = OCISpec.defaultCapabilities
        public var oomScoreAdj: Int? = nil

        public init(args: [String], env: [String]) {
            self.args = args
            self.env = env
        }
    }

    public struct Mount: Sendable, Hashable {
        public var destination: String
        public var source: String
        public var type: String
        public var options: [String]

        public init(destination: String, source: String, type: String = "bind", options: [String] = ["rbind", "rprivate"]) {
            self.destination = destination
            self.source = source
            self.type = type
            self.options = options
        }

        public static func bind(_ source: String, at destination: String, readOnly: Bool) -> Mount {
            Mount(destination: destination, source: source, options: ["rbind", "rprivate"] + (readOnly ? ["ro"] : ["rw"]))
        }
    }

    public enum Namespace: Sendable, Hashable {
        case new(String)
        case join(String, path: String)
    }

    public struct Resources: Sendable, Hashable {
        public var cpuShares: UInt64?
        public var cpuQuota: Int64?
        public var cpuPeriod: UInt64?
        public var memoryLimit: Int64?
        public var pidsLimit: Int64?

        public init(cpuShares: UInt64? = nil, cpuQuota: Int64? = nil, cpuPeriod: UInt64? = nil, memoryLimit: Int64? = nil, pidsLimit: Int64? = nil) {
            self.cpuShares = cpuShares
            self.cpuQuota = cpuQuota
            self.cpuPeriod = cpuPeriod
            self.memoryLimit = memoryLimit
            self.pidsLimit = pidsLimit
        }
    }

    public var process: Process
    public var rootPath: String
    public var readOnlyRoot = false
    public var hostname: String?
    public var mounts: [Mount] = []
    public var namespaces: [Namespace]
    public var cgroupsPath: String
    public var resources = Resources()
    /// Privileged: host devices, writable /sys and cgroups, no masked paths, no `no_new_privs`. Its capabilities
    /// are whatever `process.capabilities` holds (the runtime gives it the host's bounding set).
    public var privileged = false
    /// `procMount: Unmasked`: /proc without masked or read-only paths.
    public var unmaskedProc = false
    public var seccomp = SeccompProfile.unconfined
    /// Device nodes created in the container's /dev (a privileged container gets the host's).
    public var devices: [Device] = []
    public var annotations: [String: String] = [:]

    public struct Device: Sendable, Hashable {
        /// `c` or `b`.
        public var type: String
        public var path: String
        public var major: Int64
        public var minor: Int64
        public var fileMode: UInt32
        public var uid: UInt32
        public var gid: UInt32

        public init(type: String, path: String, major: Int64, minor: Int64, fileMode: UInt32, uid: UInt32, gid: UInt32) {
            (self.type, self.path, self.major, self.minor, self.fileMode, self.uid, self.gid) = (type, path, major, minor, fileMode, uid, gid)
        }
    }

    public init(process: Process, rootPath: String, namespaces: [Namespace], cgroupsPath: String) {
        self.process = process
        self.rootPath = rootPath
        self.namespaces = namespaces
        self.cgroupsPath = cgroupsPath
    }
}

/// Renders an OCI runtime-spec `config.json` for runc: the default mounts, Docker's default capability set and
/// masked paths, `no_new_privs`, device cgroup rules, and limits. No rlimits are set: runc keeps the current ones
/// (raising them would need CAP_SYS_RESOURCE, which this host lacks).
public enum OCISpec {
    public static let version = "1.0.2-dev"

    /// Docker's (and containerd's CRI plugin's) default capabilities.
    public static let defaultCapabilities = [
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP",
        "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
    ]

    /// Every capability up to CAP_CHECKPOINT_RESTORE, in number order (CAP_CHOWN is 0).
    public static let allCapabilities = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ]

    public static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]

    public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    static func defaultMounts(privileged: Bool) -> [ContainerSpec.Mount] {
        [
            .init(destination: "/proc", source: "proc", type: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", source: "tmpfs", type: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(destination: "/dev/pts", source: "devpts", type: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            .init(destination: "/dev/shm", source: "shm", type: "tmpfs", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            .init(destination: "/dev/mqueue", source: "mqueue", type: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/sys", source: "sysfs", type: "sysfs", options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"]),
            .init(destination: "/sys/fs/cgroup", source: "cgroup", type: "cgroup",
                  options: ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"]),
        ]
    }

    public static func render(_ spec: ContainerSpec) -> JSONValue {
        let capabilities = spec.process.capabilities
        let capabilityNames = JSONValue.array(capabilities.map { .string("CAP_" + $0) })
        var process: JSONValue = [
            "terminal": .bool(spec.process.terminal),
            "user": [
                "uid": .int(Int64(spec.process.uid)), "gid": .int(Int64(spec.process.gid)),
                "additionalGids": .array(spec.process.additionalGids.map { .int(Int64($0)) }),
            ],
            "args": .array(spec.process.args.map { .string($0) }),
            "env": .array(spec.process.env.map { .string($0) }),
            "cwd": .string(spec.process.cwd),
            "capabilities": ["bounding": capabilityNames, "effective": capabilityNames, "permitted": capabilityNames],
            "noNewPrivileges": .bool(spec.process.noNewPrivileges && !spec.privileged),
        ]
        if let adj = spec.process.oomScoreAdj { process["oomScoreAdj"] = .int(Int64(adj)) }

        var mounts = defaultMounts(privileged: spec.privileged)
        let custom = Set(spec.mounts.map(\.destination))
        mounts.removeAll { custom.contains($0.destination) }
        mounts += spec.mounts

        var linux: JSONValue = [
            "namespaces": .array(spec.namespaces.map { namespace in
                switch namespace {
                case .new(let type): return ["type": .string(type)]
                case .join(let type, let path): return ["type": .string(type), "path": .string(path)]
                }
            }),
            "cgroupsPath": .string(spec.cgroupsPath),
            "resources": resources(spec),
        ]
        if let seccomp = spec.privileged ? nil : spec.seccomp.document(capabilities: capabilities) {
            linux["seccomp"] = seccomp
        }
        if !spec.devices.isEmpty {
            linux["devices"] = .array(spec.devices.map { device in
                ["type": .string(device.type), "path": .string(device.path), "major": .int(device.major), "minor": .int(device.minor),
                 "fileMode": .int(Int64(device.fileMode)), "uid": .int(Int64(device.uid)), "gid": .int(Int64(device.gid))]
            })
        }
        if !spec.privileged, !spec.unmaskedProc {
            linux["maskedPaths"] = .array(maskedPaths.map { .string($0) })
            linux["readonlyPaths"] = .array(readonlyPaths.map { .string($0) })
        }

        var document: JSONValue = [
            "ociVersion": .string(version),
            "process": process,
            "root": ["path": .string(spec.rootPath), "readonly": .bool(spec.readOnlyRoot)],
            "mounts": .array(mounts.map { mount in
                ["destination": .string(mount.destination), "type": .string(mount.type), "source": .string(mount.source),
                 "options": .array(mount.options.map { .string($0) })]
            }),
            "linux": linux,
        ]
        if let hostname = spec.hostname { document["hostname"] = .string(hostname) }
        if !spec.annotations.isEmpty { document["annotations"] = JSONValue(stringMap: spec.annotations) }
        return document
    }

    static func resources(_ spec: ContainerSpec) -> JSONValue {
        var resources: JSONValue = [
            "devices": spec.privileged ? [["allow": true, "access": "rwm"]] : [["allow": false, "access": "rwm"]],
        ]
        var cpu: JSONValue = [:]
        if let shares = spec.resources.cpuShares { cpu["shares"] = .int(Int64(shares)) }
        if let quota = spec.resources.cpuQuota { cpu["quota"] = .int(quota) }
        if let period = spec.resources.cpuPeriod { cpu["period"] = .int(Int64(period)) }
        if cpu.objectValue?.isEmpty == false { resources["cpu"] = cpu }
        if let limit = spec.resources.memoryLimit {
            // Swap as large as memory: the container cannot swap past its limit (as the kubelet configures it).
            resources["memory"] = ["limit": .int(limit), "swap": .int(limit)]
        }
        if let pids = spec.resources.pidsLimit { resources["pids"] = ["limit": .int(pids)] }
        return resources
    }
}
