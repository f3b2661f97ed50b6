import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data dir, held for the life of a server: one store, one writer.
///
/// It is an `flock` on `<data-dir>/server/lock`, released by the kernel when the process exits (even on `kill -9`).
final class DataDirLock {
    let descriptor: Int32

    enum Failure: Error, CustomStringConvertible {
        case held(path: String, owner: String)
        case unavailable(path: String, errno: Int32)

        var description: String {
            switch self {
            case .held(let path, let owner): return "another tug server (pid \(owner)) is using this data dir (\(path)); stop it first"
            case .unavailable(let path, let code): return "cannot lock \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    static func path(dataDir: String) -> String { "\(dataDir)/server/lock" }

    init(dataDir: String) throws(Failure) {
        let path = Self.path(dataDir: dataDir)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unavailable(path: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let owner = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw .held(path: path, owner: owner.isEmpty ? "?" : owner)
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
    static func isHeld(dataDir: String) -> Bool {
        let fd = open(path(dataDir: dataDir), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}
