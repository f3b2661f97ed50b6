import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Mount operations the runtime needs, as direct syscalls.
public enum Mounts {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Stacks `lower` (top first) under a writable `upper` at `target`.
    public static func overlay(lower: [String], upper: String, work: String, target: String) throws {
        let options = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
        guard mount("overlay", target, "overlay", 0, options) == 0 else {
            throw Failure(description: "mount overlay at \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// A tmpfs (emptyDir with medium Memory), with an optional size limit in bytes.
    public static func tmpfs(at target: String, sizeLimit: Int64?, mode: Int = 0o777, uid: UInt32 = 0, gid: UInt32 = 0) throws {
        let options = "mode=0\(String(mode, radix: 8)),uid=\(uid),gid=\(gid)" + (sizeLimit.map { ",size=\($0)" } ?? "")
        guard mount("tmpfs", target, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
            throw Failure(description: "mount tmpfs at \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Unmounts everything mounted at `target`, stacked mounts included (lazily, so a busy mount never blocks a
    /// teardown). Not being a mount point is not an error.
    public static func unmount(_ target: String) throws {
        for _ in 0..<16 {
            if umount2(target, Int32(MNT_DETACH)) == 0 { continue }
            if errno == EINVAL || errno == ENOENT { return }
            throw Failure(description: "unmount \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Every mount point at or below `prefix`, deepest first (from /proc/self/mountinfo).
    public static func mountPoints(under prefix: String) -> [String] {
        guard let info = ProcFS.read("/proc/self/mountinfo") else { return [] }
        let points = info.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = unescape(String(fields[4]))
            return point == prefix || point.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/") ? point : nil
        }
        return Array(Set(points)).sorted { $0.count > $1.count }
    }

    public static func isMountPoint(_ path: String) -> Bool {
        mountPoints(under: path).contains(path)
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 3 < raw.count, let value = UInt8(String(decoding: raw[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
