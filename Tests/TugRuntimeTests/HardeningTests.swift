import Foundation
import Testing
import TugAPIMachinery
@testable import TugRuntime

@Suite struct HardeningTests {
    func spec(capabilities: [String] = OCISpec.defaultCapabilities) -> ContainerSpec {
        var process = ContainerSpec.Process(args: ["sh"], env: [])
        process.capabilities = capabilities
        return ContainerSpec(process: process, rootPath: "/r", namespaces: [.new("mount")], cgroupsPath: "/tugboat/podU/C")
    }

    func rules(_ doc: JSONValue) -> [JSONValue] { doc["linux"]["seccomp"]["syscalls"].arrayValue ?? [] }

    func allowsUnconditionally(_ doc: JSONValue, _ name: String) -> Bool {
        rules(doc).contains { $0["action"] == "SCMP_ACT_ALLOW" && $0["args"].isNull && $0["names"].arrayValue?.contains(.string(name)) == true }
    }

    @Test func runtimeDefaultIsAnAllowList() {
        var s = spec()
        s.seccomp = .runtimeDefault
        let doc = OCISpec.render(s)
        #expect(doc["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO")
        #expect(doc["linux"]["seccomp"]["defaultErrnoRet"] == 1)
        for name in ["read", "write", "openat", "execve", "futex", "epoll_pwait"] { #expect(allowsUnconditionally(doc, name), "\(name)") }
        for name in ["mount", "unshare", "setns", "bpf", "kexec_load", "init_module", "keyctl", "clone", "reboot"] {
            #expect(!allowsUnconditionally(doc, name), "\(name) needs a capability the default set lacks")
        }
        let clone = rules(doc).first { $0["names"] == ["clone"] }
        #expect(clone?["args"][0]["op"] == "SCMP_CMP_MASKED_EQ" && clone?["args"][0]["valueTwo"] == 0, "clone without new namespaces only")
        #expect(rules(doc).contains { $0["names"] == ["clone3"] && $0["errnoRet"] == 38 }, "clone3 → ENOSYS, so libcs fall back to clone")
        #if arch(x86_64)
        #expect(doc["linux"]["seccomp"]["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        #expect(allowsUnconditionally(doc, "arch_prctl"))
        #endif
    }

    @Test func runtimeDefaultFollowsTheCapabilities() {
        var s = spec(capabilities: OCISpec.defaultCapabilities + ["SYS_ADMIN", "SYS_PTRACE"])
        s.seccomp = .runtimeDefault
        let doc = OCISpec.render(s)
        for name in ["mount", "unshare", "setns", "clone", "clone3", "ptrace"] { #expect(allowsUnconditionally(doc, name), "\(name)") }
        #expect(!rules(doc).contains { $0["names"] == ["clone3"] && $0["action"] == "SCMP_ACT_ERRNO" })
    }

    @Test func localhostAndUnconfined() throws {
        #expect(OCISpec.render(spec())["linux"]["seccomp"].isNull)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/profiles", withIntermediateDirectories: true)
        try #"{"defaultAction":"SCMP_ACT_LOG"}"#.write(toFile: "\(dir)/profiles/log.json", atomically: true, encoding: .utf8)
        try #"["not a profile"]"#.write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        var s = spec()
        s.seccomp = try SeccompProfile.localhost("profiles/log.json", under: dir)
        #expect(OCISpec.render(s)["linux"]["seccomp"] == ["defaultAction": "SCMP_ACT_LOG"])
        for (name, message) in [("absent.json", "cannot be read"), ("bad.json", "is not a seccomp profile"), ("../etc/x.json", "without \"..\""),
                                ("/etc/x.json", "relative path")] {
            #expect { try SeccompProfile.localhost(name, under: dir) } throws: { "\($0)".contains(message) }
        }
    }

    @Test func masksDevicesAndNamespaces() {
        var s = spec()
        s.devices = [.init(type: "c", path: "/dev/loop-control", major: 10, minor: 237, fileMode: 0o660, uid: 0, gid: 6)]
        var doc = OCISpec.render(s)
        #expect(doc["linux"]["devices"] == [["type": "c", "path": "/dev/loop-control", "major": 10, "minor": 237, "fileMode": 0o660, "uid": 0, "gid": 6]])
        #expect(doc["linux"]["maskedPaths"].arrayValue?.contains("/proc/kcore") == true)
        s.unmaskedProc = true
        doc = OCISpec.render(s)
        #expect(doc["linux"]["maskedPaths"].isNull && doc["linux"]["readonlyPaths"].isNull, "procMount: Unmasked")
    }

    @Test func boundingSetFromProcStatus() {
        #expect(HostPrivileges.boundingSet(status: "Name:\ttug\nCapBnd:\t0000000000000003\n") == ["CHOWN", "DAC_OVERRIDE"])
        let host = HostPrivileges.boundingSet(status: "CapBnd:\t000001fffeffffff\n")
        #expect(host.count == OCISpec.allCapabilities.count - 1 && !host.contains("SYS_RESOURCE") && host.contains("SYS_ADMIN"))
        #expect(HostPrivileges.boundingSet(status: "Name:\ttug\n").isEmpty)
        #expect(HostPrivileges.boundingSet(status: nil).isEmpty)
    }

    @Test func hostDevicesAreListedWithTheirNumbers() {
        let devices = HostPrivileges.devices()
        let null = devices.first { $0.path == "/dev/null" }
        #expect(null?.type == "c" && null?.major == 1 && null?.minor == 3)
        #expect(!devices.contains { $0.path.hasPrefix("/dev/pts/") || $0.path == "/dev/ptmx" || $0.path == "/dev/console" })
    }
}
