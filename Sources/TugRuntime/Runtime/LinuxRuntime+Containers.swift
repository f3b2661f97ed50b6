import Foundation
import TugAPIMachinery
import TugOS
#if canImport(Glibc)
import Glibc
#endif

extension LinuxRuntime {
    public func startContainer(_ config: ContainerConfig, in sandbox: SandboxInfo) async throws -> ContainerInfo {
        let id = RuntimeRecords.newID()
        let directory = records.containerDirectory(id)
        let rootfs = "\(directory)/rootfs"
        for sub in ["rootfs", "upper", "work"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
        }
        try FileManager.default.createDirectory(atPath: (config.logPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var info = ContainerInfo(id: id, sandboxID: sandbox.id, podUID: sandbox.podUID, name: config.name, attempt: config.attempt,
                                 image: config.image.reference, imageID: config.image.imageID, createdAt: RuntimeRecords.now(),
                                 startedAt: nil, finishedAt: nil, state: .created, exitCode: nil, reason: nil, pid: 0, monitorPID: 0,
                                 logPath: config.logPath, labels: config.labels)
        try records.save(info, in: directory)
        do {
            var lower: [String] = []
            for layer in config.image.layers { lower.insert(try await layers.unpacked(layer), at: 0) }
            try Mounts.overlay(lower: lower, upper: "\(directory)/upper", work: "\(directory)/work", target: rootfs)
            let spec = try containerSpec(config, id: id, sandbox: sandbox, rootfs: rootfs)
            try Self.writeConfig(spec, in: directory)
            let started = try await monitor.start(id: id, files: files(id: id, log: config.logPath), stdin: config.stdin,
                                                  stdinOnce: config.stdinOnce, tty: config.tty)
            info.pid = started.pid
            info.monitorPID = started.monitor
            info.startedAt = started.startedAt ?? RuntimeRecords.now()
            info.state = .running
            try records.save(info, in: directory)
        } catch {
            try? Mounts.unmount(rootfs)
            try? await runc.delete(id)
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return try await refreshed(info)
    }

    /// A container's monitor files: bundle, log, and its sockets under `socketDirectory`.
    func files(id: String, log: String) -> ContainerMonitor.Files {
        ContainerMonitor.Files(bundle: records.containerDirectory(id), log: log, socketDirectory: socketDirectory)
    }

    func containerSpec(_ config: ContainerConfig, id: String, sandbox: SandboxInfo, rootfs: String) throws -> ContainerSpec {
        var process = config.process
        process.terminal = config.tty
        let user = Self.resolveUser(config: config, rootfs: rootfs)
        process.uid = user.uid
        process.gid = user.gid
        if !process.env.contains(where: { $0.hasPrefix("HOME=") }) { process.env.append("HOME=\(user.home)") }
        if config.privileged || config.allCapabilities {
            process.capabilities = hostBoundingSet
        } else if let missing = process.capabilities.first(where: { !hostBoundingSet.contains($0) }) {
            throw RuntimeError("capability CAP_\(missing) is not in this node's bounding set: the node agent does not hold it, so no container can")
        }
        var namespaces: [ContainerSpec.Namespace] = [.new("mount")]
        if !config.hostPID { namespaces.append(.new("pid")) }
        if !config.hostIPC { namespaces.append(.join("ipc", path: "/proc/\(sandbox.pid)/ns/ipc")) }
        if !sandbox.hostNetwork {
            namespaces += [.join("network", path: "/proc/\(sandbox.pid)/ns/net"), .join("uts", path: "/proc/\(sandbox.pid)/ns/uts")]
        }
        var spec = ContainerSpec(process: process, rootPath: rootfs, namespaces: namespaces,
                                 cgroupsPath: "\(cgroupParent)/pod\(sandbox.podUID)/\(id)")
        spec.readOnlyRoot = config.readOnlyRoot
        spec.privileged = config.privileged
        spec.unmaskedProc = config.unmaskedProc
        spec.seccomp = config.seccomp
        if config.privileged { spec.devices = HostPrivileges.devices() }
        spec.resources = config.resources
        let sandboxDirectory = records.sandboxDirectory(sandbox.id)
        spec.mounts = [
            .bind("\(sandboxDirectory)/hosts", at: "/etc/hosts", readOnly: false),
            .bind("\(sandboxDirectory)/hostname", at: "/etc/hostname", readOnly: false),
            .bind("\(sandboxDirectory)/resolv.conf", at: "/etc/resolv.conf", readOnly: false),
        ] + config.mounts
        return spec
    }

    /// uid, gid and home directory: securityContext first, then the image's `User` (`name`, `uid`, `name:group`,
    /// `uid:gid`), looked up in the image's /etc/passwd and /etc/group.
    static func resolveUser(config: ContainerConfig, rootfs: String) -> (uid: UInt32, gid: UInt32, home: String) {
        let passwd = ((try? String(contentsOfFile: "\(rootfs)/etc/passwd", encoding: .utf8)) ?? "").split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        let groups = ((try? String(contentsOfFile: "\(rootfs)/etc/group", encoding: .utf8)) ?? "").split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        let imageUser = config.image.user.split(separator: ":", maxSplits: 1).map(String.init)
        var uid: UInt32 = 0
        var gid: UInt32? = nil
        var home = "/"
        if let runAsUser = config.runAsUser {
            uid = runAsUser
        } else if let name = imageUser.first {
            if let numeric = UInt32(name) { uid = numeric } else if let entry = passwd.first(where: { $0.count > 3 && $0[0] == name }) {
                uid = UInt32(entry[2]) ?? 0
                gid = UInt32(entry[3])
            }
        }
        if let entry = passwd.first(where: { $0.count > 5 && UInt32($0[2]) == uid }) {
            if gid == nil { gid = UInt32(entry[3]) }
            home = String(entry[5])
        }
        if imageUser.count == 2, config.runAsUser == nil {
            gid = UInt32(imageUser[1]) ?? groups.first(where: { $0.count > 2 && $0[0] == imageUser[1] }).flatMap { UInt32($0[2]) } ?? gid
        }
        if let runAsGroup = config.runAsGroup { gid = runAsGroup }
        return (uid, gid ?? 0, home)
    }

    public func stopContainer(_ id: String, gracePeriod: Duration) async throws {
        let directory = records.containerDirectory(id)
        guard let info = records.load(ContainerInfo.self, in: directory), info.state == .running else { return }
        let files = ContainerMonitor.Files(bundle: directory, log: info.logPath)
        if gracePeriod > .zero {
            try await runc.kill(id, signal: "TERM")
            if try await waitForExit(of: files, info, timeout: gracePeriod) {
                _ = try await refreshed(info)
                return
            }
        }
        try await runc.kill(id, signal: "KILL", all: true)
        try await waitForExit(of: files, info, timeout: .seconds(10))
        _ = try await refreshed(info)
    }

    public func removeContainer(_ id: String) async throws {
        let directory = records.containerDirectory(id)
        if let info = records.load(ContainerInfo.self, in: directory), info.state == .running {
            try await stopContainer(id, gracePeriod: .zero)
        }
        try await runc.delete(id)
        try Mounts.unmount("\(directory)/rootfs")
        if FileManager.default.fileExists(atPath: directory) { try FileManager.default.removeItem(atPath: directory) }
    }

    public func containers() async throws -> [ContainerInfo] {
        records.all(ContainerInfo.self, under: records.containerRoot).map(observed)
    }

    public func containers(ofPod podUID: String) async throws -> [ContainerInfo] {
        var result: [ContainerInfo] = []
        for info in records.all(ContainerInfo.self, under: records.containerRoot) where info.podUID == podUID {
            result.append(try await refreshed(info))
        }
        return result
    }

    /// The state a record implies now, without changing anything.
    func observed(_ info: ContainerInfo) -> ContainerInfo {
        guard info.state == .running else { return info }
        var info = info
        let files = ContainerMonitor.Files(bundle: records.containerDirectory(info.id), log: info.logPath)
        switch ContainerMonitor.observe(files, pid: info.pid, monitor: info.monitorPID) {
        case .running:
            break
        case .exited(let exit):
            info.state = .exited
            info.exitCode = exit.exitCode
            info.finishedAt = exit.finishedAt
            info.reason = exit.exitCode == 0 ? "Completed" : "Error"
        case .vanished:
            info.state = .exited
            info.exitCode = 137
            info.reason = "ContainerStatusUnknown"
        }
        return info
    }

    /// Brings a running record up to date: once the monitor wrote the exit file, the container is exited (reason
    /// from the memory cgroup's OOM kill count and the exit code), its runc state and cgroup are removed and its
    /// root unmounted; a container whose monitor and process both vanished is reported as exited, status unknown.
    func refreshed(_ info: ContainerInfo) async throws -> ContainerInfo {
        guard info.state == .running else { return info }
        let directory = records.containerDirectory(info.id)
        let files = ContainerMonitor.Files(bundle: directory, log: info.logPath)
        var info = info
        switch ContainerMonitor.observe(files, pid: info.pid, monitor: info.monitorPID) {
        case .running:
            return info
        case .exited(let exit):
            info.state = .exited
            info.exitCode = exit.exitCode
            info.finishedAt = exit.finishedAt
            info.reason = oomKilled(info) ? "OOMKilled" : (exit.exitCode == 0 ? "Completed" : "Error")
        case .vanished:
            info.state = .exited
            info.exitCode = 137
            info.finishedAt = RuntimeRecords.now()
            info.reason = "ContainerStatusUnknown"
        }
        try await runc.delete(info.id)
        try? Mounts.unmount("\(directory)/rootfs")
        try records.save(info, in: directory)
        return info
    }

    func oomKilled(_ info: ContainerInfo) -> Bool {
        guard let config = FileManager.default.contents(atPath: "\(records.containerDirectory(info.id))/config.json"),
              let path = (try? JSONParser.parseValue([UInt8](config)))?["linux"]["cgroupsPath"].stringValue else { return false }
        guard let control = ProcFS.read("/sys/fs/cgroup/memory\(path)/memory.oom_control") else { return false }
        return control.split(separator: "\n").contains { line in
            let parts = line.split(separator: " ")
            return parts.count == 2 && parts[0] == "oom_kill" && (Int(parts[1]) ?? 0) > 0
        }
    }

    public func exec(_ id: String, command: [String], timeout: Duration) async throws -> CommandResult {
        try await runner.run(Command([runc.binary, "--root", runc.root, "exec", id] + command, timeout: timeout, maxOutputBytes: 1024 * 1024))
    }
}
