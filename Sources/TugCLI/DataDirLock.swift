import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data dir, held for the life of a server or agent: one store, one writer, one runtime.
///
/// It is an `flock` on `<data-dir>/<role>/lock`, released by the kernel when the process exits (even on `kill -9`).
final class DataDirLock {
    let descriptor: Int32

    enum Failure: Error, CustomStringConvertible {
        case held(path: String, owner: String, role: String)
        case unavailable(path: String, errno: Int32)

        var description: String {
            switch self {
            case .held(let path, let owner, let role): return "another tug \(role) (pid \(owner)) is using this data dir (\(path)); stop it first"
            case .unavailable(let path, let code): return "cannot lock \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    static func path(dataDir: String, role: String = "server") -> String { "\(dataDir)/\(role)/lock" }

    init(dataDir: String, role: String = "server") throws(Failure) {
        let path = Self.path(dataDir: dataDir, role: role)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unavailable(path: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let owner = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw .held(path: path, owner: owner.isEmpty ? "?" : owner, role: role)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Whether a live server holds the lock (for `tug reset`).
    static func isHeld(dataDir: String, role: String = "server") -> Bool {
        let fd = open(path(dataDir: dataDir, role: role), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}
