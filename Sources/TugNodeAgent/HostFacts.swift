import Foundation
import TugAPIMachinery
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// What the Node object says about this machine: capacity, addresses and nodeInfo, read from /proc, /sys and
/// /etc (and `ip -j` for the default address).
struct HostFacts: Sendable {
    var hostname: String
    var cpus: Int
    var memoryBytes: Int64
    var ephemeralStorageBytes: Int64
    var machineID: String
    var systemUUID: String
    var bootID: String
    var kernelVersion: String
    var osImage: String
    var architecture: String

    static func read(dataDir: String) -> HostFacts {
        func file(_ path: String) -> String { (ProcFS.read(path) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var host = [UInt8](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let memKiB = file("/proc/meminfo").split(separator: "\n").first { $0.hasPrefix("MemTotal:") }?
            .split(separator: " ").dropFirst().first.flatMap { Int64($0) } ?? 0
        var fs = statvfs()
        let storage = statvfs(dataDir, &fs) == 0 ? Int64(fs.f_blocks) * Int64(fs.f_frsize) : 0
        let osRelease = file("/etc/os-release").split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        let machineID = file("/etc/machine-id")
        let uuid = file("/sys/class/dmi/id/product_uuid")
        #if arch(x86_64)
        let arch = "amd64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "unknown"
        #endif
        return HostFacts(hostname: String(decoding: host.prefix { $0 != 0 }, as: UTF8.self).lowercased(), cpus: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))),
                         memoryBytes: memKiB * 1024, ephemeralStorageBytes: storage, machineID: machineID,
                         systemUUID: uuid.isEmpty ? machineID : uuid, bootID: file("/proc/sys/kernel/random/boot_id"),
                         kernelVersion: release, osImage: osRelease, architecture: arch)
    }

    /// The first global IPv4 address of the interface holding the default route (`ip -j route`, `ip -j addr`).
    static func defaultIPv4(runner: any CommandRunner) async -> String? {
        guard let routes = try? await runner.output(Command(["ip", "-j", "-4", "route", "show", "default"], timeout: .seconds(5))),
              let route = (try? JSONParser.parseValue(routes.stdout))?[0], let device = route["dev"].stringValue,
              let addresses = try? await runner.output(Command(["ip", "-j", "-4", "addr", "show", "dev", device], timeout: .seconds(5))),
              let list = (try? JSONParser.parseValue(addresses.stdout))?[0]["addr_info"].arrayValue else { return nil }
        return list.first { $0["scope"].stringValue == "global" }?["local"].stringValue
    }
}

/// The address a node advertises when none is given.
public enum NodeAddress {
    /// The first global IPv4 address of the default route's interface.
    public static func defaultIPv4(runner: any CommandRunner = ProcessCommandRunner()) async -> String? {
        await HostFacts.defaultIPv4(runner: runner)
    }
}
