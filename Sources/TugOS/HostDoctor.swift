import Foundation
import TugAPIMachinery

/// Checks the host for what Tugboat's node agent needs, as one finding per check (`tug doctor`).
public struct HostDoctor: Sendable {
    public struct Finding: Sendable, Hashable {
        public var check: String
        public var ok: Bool
        /// What was found (ok) or what is wrong.
        public var detail: String
        /// How to fix it (empty when ok).
        public var fix: String

        public init(check: String, ok: Bool, detail: String, fix: String) {
            self.check = check
            self.ok = ok
            self.detail = detail
            self.fix = fix
        }
    }

    let host: any HostInspector

    public init(host: any HostInspector) {
        self.host = host
    }

    static let cniPlugins = ["bridge", "host-local", "loopback", "portmap"]
    static let cniDirectories = ["/usr/lib/cni", "/opt/cni/bin"]
    static let cgroupControllers = ["cpu", "memory", "pids"]

    public func check() async -> [Finding] {
        var findings: [Finding] = []
        findings.append(host.isRoot
            ? Finding(check: "root", ok: true, detail: "running as root", fix: "")
            : Finding(check: "root", ok: false, detail: "not running as root: containers, mounts and networking need it", fix: "run tug as root (sudo)"))
        findings.append(cgroups())
        findings.append(overlay())
        findings.append(await runc())
        findings.append(cni())
        findings.append(sysctl("ip_forward", path: "/proc/sys/net/ipv4/ip_forward", fix: "sysctl -w net.ipv4.ip_forward=1"))
        if host.exists("/proc/sys/net/bridge") {
            findings.append(sysctl("bridge-nf-call-iptables", path: "/proc/sys/net/bridge/bridge-nf-call-iptables",
                                   fix: "sysctl -w net.bridge.bridge-nf-call-iptables=1"))
        } else {
            findings.append(Finding(check: "bridge-nf-call-iptables", ok: false, detail: "bridge netfilter is not loaded", fix: "modprobe br_netfilter"))
        }
        findings.append(host.isExecutable("/usr/sbin/iptables") || host.isExecutable("/sbin/iptables")
            ? Finding(check: "iptables", ok: true, detail: "iptables present", fix: "")
            : Finding(check: "iptables", ok: false, detail: "iptables not found", fix: "apt-get install iptables (make deps)"))
        return findings
    }

    /// cgroup v2 (unified) or v1/hybrid with the controllers the agent sets limits through.
    func cgroups() -> Finding {
        if let controllers = host.read("/sys/fs/cgroup/cgroup.controllers") {
            let have = Set(controllers.split(whereSeparator: \.isWhitespace).map(String.init))
            let missing = Self.cgroupControllers.filter { !have.contains($0) }
            return missing.isEmpty
                ? Finding(check: "cgroups", ok: true, detail: "cgroup v2 with \(Self.cgroupControllers.joined(separator: ", "))", fix: "")
                : Finding(check: "cgroups", ok: false, detail: "cgroup v2 lacks controllers: \(missing.joined(separator: ", "))",
                          fix: "enable them in /sys/fs/cgroup/cgroup.subtree_control")
        }
        let missing = Self.cgroupControllers.filter { !host.exists("/sys/fs/cgroup/\($0)") }
        return missing.isEmpty
            ? Finding(check: "cgroups", ok: true, detail: "cgroup v1 (hybrid) with \(Self.cgroupControllers.joined(separator: ", "))", fix: "")
            : Finding(check: "cgroups", ok: false, detail: "cgroup controllers not mounted: \(missing.joined(separator: ", "))",
                      fix: "mount the cgroup hierarchies (e.g. via systemd) or boot with cgroup v2")
    }

    func overlay() -> Finding {
        let filesystems = host.read("/proc/filesystems") ?? ""
        let present = filesystems.split(separator: "\n").contains { $0.split(whereSeparator: \.isWhitespace).last == "overlay" }
        return present
            ? Finding(check: "overlayfs", ok: true, detail: "overlay filesystem available", fix: "")
            : Finding(check: "overlayfs", ok: false, detail: "the overlay filesystem is not available", fix: "modprobe overlay")
    }

    /// `runc features` prints JSON; its OCI version range is the answer.
    func runc() async -> Finding {
        guard let result = await host.run(Command(["runc", "features"], timeout: .seconds(10))), result.status == 0 else {
            return Finding(check: "runc", ok: false, detail: "runc not found or not working", fix: "apt-get install runc (make deps)")
        }
        guard let features = try? JSONParser.parseValue(result.stdout), let max = features["ociVersionMax"].stringValue else {
            return Finding(check: "runc", ok: false, detail: "`runc features` did not print JSON (runc too old?)", fix: "apt-get install runc (make deps)")
        }
        return Finding(check: "runc", ok: true, detail: "runc supports OCI runtime spec up to \(max)", fix: "")
    }

    func cni() -> Finding {
        for dir in Self.cniDirectories {
            let missing = Self.cniPlugins.filter { !host.isExecutable("\(dir)/\($0)") }
            if missing.isEmpty { return Finding(check: "cni", ok: true, detail: "CNI plugins in \(dir)", fix: "") }
        }
        return Finding(check: "cni", ok: false, detail: "CNI plugins \(Self.cniPlugins.joined(separator: ", ")) not found in \(Self.cniDirectories.joined(separator: " or "))",
                       fix: "apt-get install containernetworking-plugins (make deps)")
    }

    func sysctl(_ name: String, path: String, fix: String) -> Finding {
        let value = host.read(path)?.trimmingCharacters(in: .whitespacesAndNewlines)
        return value == "1"
            ? Finding(check: name, ok: true, detail: "\(name) = 1", fix: "")
            : Finding(check: name, ok: false, detail: "\(name) is \(value ?? "unreadable"), must be 1", fix: fix)
    }
}
