import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where audit events go, one JSON line each (kube-apiserver's log backend in its default, blocking mode: a line
/// is written before the request goes on).
public protocol AuditSink: Sendable {
    func write(_ line: [UInt8])
}

/// `--audit-log-path`: an append-only file (0600: events name users and may hold request bodies), rotated as
/// kube-apiserver's lumberjack rotates it — past `maxBytes` the file becomes `<name>-<UTC time>.<ext>` beside it,
/// and backups beyond `maxBackups` (0: all kept) or older than `maxAgeDays` (0: no limit) are removed.
public final class AuditLogFile: AuditSink {
    public let path: String
    let maxBytes: Int
    let maxBackups: Int
    let maxAgeDays: Int
    private let state: Mutex<(fd: Int32, size: Int)>

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `maxMegabytes` 0 means lumberjack's default, 100.
    public init(path: String, maxMegabytes: Int = 0, maxBackups: Int = 0, maxAgeDays: Int = 0) throws(Failure) {
        self.path = path
        self.maxBytes = (maxMegabytes > 0 ? maxMegabytes : 100) << 20
        self.maxBackups = maxBackups
        self.maxAgeDays = maxAgeDays
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        let fd = Self.open(path)
        guard fd >= 0 else { throw Failure(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        fstat(fd, &info)
        state = Mutex((fd, Int(info.st_size)))
    }

    deinit {
        state.withLock { _ = close($0.fd) }
    }

    static func open(_ path: String) -> Int32 {
        Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    }

    public func write(_ line: [UInt8]) {
        state.withLock { state in
            if state.size > 0, state.size + line.count > maxBytes { rotate(&state) }
            let written = line.withUnsafeBytes { Glibc.write(state.fd, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
        }
    }

    /// Renames the current file to its backup name and starts a new one (under the lock: writers wait).
    private func rotate(_ state: inout (fd: Int32, size: Int)) {
        var stamp = Date()
        var backup = Self.backupName(path, at: stamp)
        // Two rotations within one millisecond (a burst of large events) must not overwrite a backup.
        while FileManager.default.fileExists(atPath: backup) {
            stamp = stamp.addingTimeInterval(0.001)
            backup = Self.backupName(path, at: stamp)
        }
        guard rename(path, backup) == 0 else { return }
        let fd = Self.open(path)
        guard fd >= 0 else { return }
        close(state.fd)
        state = (fd, 0)
        prune()
    }

    /// lumberjack's `<name>-2006-01-02T15-04-05.000<ext>`.
    static func backupName(_ path: String, at date: Date) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.isEmpty ? "" : ".\(url.pathExtension)"
        let base = url.deletingPathExtension().path
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH-mm-ss.SSS"
        return "\(base)-\(formatter.string(from: date))\(ext)"
    }

    /// The backups of this log, oldest first.
    public func backups() -> [String] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.deletingPathExtension().lastPathComponent + "-"
        let ext = url.pathExtension.isEmpty ? "" : ".\(url.pathExtension)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(ext) && $0 != url.lastPathComponent }.sorted().map { "\(directory)/\($0)" }
    }

    func prune() {
        var kept = backups()
        if maxAgeDays > 0 {
            let cutoff = Date().addingTimeInterval(-Double(maxAgeDays) * 86_400)
            for backup in kept {
                let modified = (try? FileManager.default.attributesOfItem(atPath: backup)[.modificationDate] as? Date) ?? Date()
                if modified < cutoff { unlink(backup) }
            }
            kept = backups()
        }
        if maxBackups > 0, kept.count > maxBackups {
            for backup in kept.prefix(kept.count - maxBackups) { unlink(backup) }
        }
    }
}

/// `--audit-log-path -`: standard output.
public struct AuditStandardOutput: AuditSink {
    public init() {}

    public func write(_ line: [UInt8]) {
        _ = line.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
    }
}
