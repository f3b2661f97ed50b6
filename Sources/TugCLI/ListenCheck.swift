import Foundation
import Glibc

/// Start-up checks that turn a failure deep inside a service (a busy port, a data directory that cannot be written)
/// into one line naming the cause, before any service starts: a service that fails mid-start takes the others
/// down with it and the first error is lost in their shutdown.
enum ListenCheck {
    /// Fails when nothing can listen on `host:port` over TCP (in use, or an address this machine does not have).
    /// The probe socket is closed again at once; the real listener binds with SO_REUSEADDR, as this probe does.
    static func ensureFree(host: String, port: Int, option: String) throws {
        guard port != 0 else { return }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return }  // a hostname: left to the listener
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result != 0 else { return }
        let reason = String(cString: strerror(errno))
        throw CommandFailure("cannot listen on \(host):\(port): \(reason.lowercased()); is another server running? choose another \(option)")
    }

    /// Fails when `directory` cannot hold a new file (read-only, full, or owned by someone else).
    static func ensureWritable(_ directory: String) throws {
        let probe = "\(directory)/.tug-write-check-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            throw CommandFailure("cannot write to \(directory): \(String(cString: strerror(errno)).lowercased())")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }
}
