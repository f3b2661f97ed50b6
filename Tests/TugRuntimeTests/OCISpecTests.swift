import Foundation
import Testing
import TugAPIMachinery
@testable import TugRuntime

@Suite struct OCISpecTests {
    func spec() -> ContainerSpec {
        var process = ContainerSpec.Process(args: ["sh", "-c", "echo hi"], env: ["PATH=/bin"])
        process.uid = 1000
        process.gid = 2000
        process.additionalGids = [3000]
        var spec = ContainerSpec(process: process, rootPath: "/r", namespaces: [.new("pid"), .join("network", path: "/proc/7/ns/net")],
                                 cgroupsPath: "/tugboat/podU/C")
        spec.hostname = "web"
        spec.resources = .init(cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimit: 64 << 20)
        spec.mounts = [.bind("/data/hosts", at: "/etc/hosts", readOnly: true)]
        return spec
    }

    @Test func rendersProcessUserAndDefaults() {
        let doc = OCISpec.render(spec())
        #expect(doc["ociVersion"] == "1.0.2-dev")
        #expect(doc["process"]["args"] == ["sh", "-c", "echo hi"])
        #expect(doc["process"]["user"] == ["uid": 1000, "gid": 2000, "additionalGids": [3000]])
        #expect(doc["process"]["noNewPrivileges"] == true)
        #expect(doc["process"]["rlimits"].isNull, "no rlimits: raising them needs CAP_SYS_RESOURCE")
        let caps = doc["process"]["capabilities"]["bounding"].arrayValue?.compactMap(\.stringValue) ?? []
        #expect(caps.count == 14 && caps.contains("CAP_NET_BIND_SERVICE") && !caps.contains("CAP_SYS_ADMIN"))
        #expect(doc["hostname"] == "web")
        #expect(doc["linux"]["maskedPaths"].arrayValue?.contains("/proc/kcore") == true)
        #expect(doc["linux"]["readonlyPaths"].arrayValue?.contains("/proc/sys") == true)
        #expect(doc["linux"]["namespaces"] == [["type": "pid"], ["type": "network", "path": "/proc/7/ns/net"]])
    }

    @Test func rendersLimitsAndMounts() {
        let doc = OCISpec.render(spec())
        #expect(doc["linux"]["cgroupsPath"] == "/tugboat/podU/C")
        #expect(doc["linux"]["resources"]["cpu"] == ["shares": 512, "quota": 50_000, "period": 100_000])
        #expect(doc["linux"]["resources"]["memory"] == ["limit": .int(64 << 20), "swap": .int(64 << 20)])
        #expect(doc["linux"]["resources"]["devices"] == [["allow": false, "access": "rwm"]])
        let mounts = doc["mounts"].arrayValue ?? []
        #expect(mounts.map { $0["destination"].stringValue ?? "" } == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/etc/hosts"])
        #expect(mounts.last?["options"] == ["rbind", "rprivate", "ro"])
        #expect(mounts[5]["options"].arrayValue?.contains("ro") == true, "sysfs is read-only")
    }

    @Test func privilegedGetsWhatTheRuntimeHands() {
        var s = spec()
        s.privileged = true
        s.process.capabilities = ["CHOWN", "SYS_ADMIN"]
        s.seccomp = .runtimeDefault
        let doc = OCISpec.render(s)
        #expect(doc["process"]["capabilities"]["bounding"] == ["CAP_CHOWN", "CAP_SYS_ADMIN"], "the host's bounding set, never all the kernel knows")
        #expect(doc["linux"]["seccomp"].isNull, "a privileged container is not filtered")
        #expect(doc["process"]["noNewPrivileges"] == false)
        #expect(doc["linux"]["maskedPaths"].isNull)
        #expect(doc["linux"]["resources"]["devices"] == [["allow": true, "access": "rwm"]])
    }
}

@Suite struct RuntimeHelpersTests {
    @Test func parsesRuncStateAndLog() throws {
        let state = Runc.parseState(["id": "c1", "pid": 42, "status": "running", "bundle": "/b"])
        #expect(state == Runc.State(id: "c1", pid: 42, status: "running", bundle: "/b"))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = "\(dir)/runc.log"
        try """
            {"level":"info","msg":"starting"}
            {"level":"error","msg":"exec: \\"nope\\": executable file not found in $PATH"}

            """.write(toFile: log, atomically: true, encoding: .utf8)
        #expect(Runc.lastError(inLog: log) == "exec: \"nope\": executable file not found in $PATH")
    }
}
