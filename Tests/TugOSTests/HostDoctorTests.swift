import Testing
import TugOS

/// A scripted host: files by path, executables by path, and canned command results.
struct FakeHost: HostInspector {
    var files: [String: String] = [:]
    var executables: Set<String> = []
    var isRoot = true
    var commands: [[String]: CommandResult] = [:]

    func read(_ path: String) -> String? { files[path] }
    func exists(_ path: String) -> Bool { files[path] != nil || files.keys.contains { $0.hasPrefix(path + "/") } || executables.contains(path) }
    func isExecutable(_ path: String) -> Bool { executables.contains(path) }
    func run(_ command: Command) async -> CommandResult? { commands[command.argv] }

    static var healthy: FakeHost {
        FakeHost(
            files: ["/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n", "/proc/filesystems": "nodev\tproc\nnodev\toverlay\n",
                    "/proc/sys/net/ipv4/ip_forward": "1\n", "/proc/sys/net/bridge/bridge-nf-call-iptables": "1\n"],
            executables: ["/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback", "/usr/lib/cni/portmap", "/usr/sbin/iptables"],
            commands: [["runc", "features"]: CommandResult(status: 0, stdout: Array(#"{"ociVersionMin":"1.0.0","ociVersionMax":"1.2.0"}"#.utf8), stderr: [])])
    }
}

@Suite struct HostDoctorTests {
    @Test func healthyHostPassesEveryCheck() async {
        let findings = await HostDoctor(host: FakeHost.healthy).check()
        let failed = findings.filter { !$0.ok }
        #expect(failed.isEmpty, "\(failed)")
        #expect(findings.first { $0.check == "runc" }?.detail.contains("1.2.0") == true)
    }

    @Test func eachProblemComesWithItsFix() async {
        var host = FakeHost.healthy
        host.isRoot = false
        host.files["/proc/sys/net/ipv4/ip_forward"] = "0\n"
        host.files["/proc/sys/net/bridge/bridge-nf-call-iptables"] = nil
        host.files["/proc/filesystems"] = "nodev\tproc\n"
        host.executables.remove("/usr/lib/cni/portmap")
        host.commands = [:]
        let failed = Dictionary(uniqueKeysWithValues: await HostDoctor(host: host).check().filter { !$0.ok }.map { ($0.check, $0.fix) })
        #expect(failed == [
            "root": "run tug as root (sudo)",
            "ip_forward": "sysctl -w net.ipv4.ip_forward=1",
            "bridge-nf-call-iptables": "modprobe br_netfilter",
            "overlayfs": "modprobe overlay",
            "cni": "apt-get install containernetworking-plugins (make deps)",
            "runc": "apt-get install runc (make deps)",
        ])
    }

    @Test func cgroupV1HybridIsAccepted() async {
        var host = FakeHost.healthy
        host.files["/sys/fs/cgroup/cgroup.controllers"] = nil
        for c in ["cpu", "memory", "pids"] { host.files["/sys/fs/cgroup/\(c)/tasks"] = "" }
        let cgroups = await HostDoctor(host: host).check().first { $0.check == "cgroups" }
        #expect(cgroups?.ok == true && cgroups?.detail.contains("v1") == true)
    }
}
