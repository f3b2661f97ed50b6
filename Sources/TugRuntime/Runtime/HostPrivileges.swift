import Foundation
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// What this process may hand a container: its capability bounding set (a privileged container gets exactly that,
/// never a capability the agent itself lacks) and the host's device nodes.
public enum HostPrivileges {
    /// Capability names (without `CAP_`) in the bounding set that `status` (`/proc/self/status`) reports.
    public static func boundingSet(status: String? = ProcFS.read("/proc/self/status")) -> [String] {
        guard let line = status?.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
              let mask = UInt64(line.dropFirst("CapBnd:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return [] }
        return OCISpec.allCapabilities.enumerated().compactMap { bit, name in mask & (1 << UInt64(bit)) != 0 ? name : nil }
    }

    /// Entries of /dev a runtime should not copy: its own mounts, the console and ptmx (runc makes those).
    static let skipped: Set<String> = ["pts", "shm", "mqueue", "fd", "console", "ptmx", ".lxc", ".lxd-mounts", ".udev"]

    /// The character and block devices under `root`, for a privileged container's /dev.
    public static func devices(under root: String = "/dev") -> [ContainerSpec.Device] {
        var result: [ContainerSpec.Device] = []
        collect(root, into: &result, depth: 0)
        return result.sorted { $0.path < $1.path }
    }

    static func collect(_ directory: String, into result: inout [ContainerSpec.Device], depth: Int) {
        guard depth < 8, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where !skipped.contains(name) {
            let path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let format = info.st_mode & S_IFMT
            if format == S_IFDIR {
                collect(path, into: &result, depth: depth + 1)
            } else if format == S_IFCHR || format == S_IFBLK {
                let device = UInt64(info.st_rdev)
                let major = Int64(((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff))
                let minor = Int64((device & 0xff) | ((device >> 12) & ~0xff))
                result.append(.init(type: format == S_IFCHR ? "c" : "b", path: path, major: major, minor: minor,
                                    fileMode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid))
            }
        }
    }
}
