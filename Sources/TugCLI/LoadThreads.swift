import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Load generation on OS threads with blocking sockets (a benchmark's client must not share the Swift concurrency
/// pool with the code it measures): `run` starts the threads, each calls `body` until the deadline, and the counts
/// they return are summed.
enum LoadThreads {
    static func run(threads: Int, duration: Duration, _ body: @escaping @Sendable (_ thread: Int, _ deadline: ContinuousClock.Instant) -> Int) -> Int {
        let deadline = ContinuousClock.now + duration
        let total = Shared(0)
        let group = DispatchGroup()
        for index in 0..<threads {
            group.enter()
            let thread = Thread {
                let count = body(index, deadline)
                total.withLock { $0 += count }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return total.withLock { $0 }
    }

    /// A socket connected to `ip`:`port` (SOCK_STREAM or SOCK_DGRAM) with a receive timeout; nil if it cannot connect.
    static func connect(ip: String, port: Int, type: Int32, timeoutMilliseconds: Int = 1000) -> Int32? {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, ip, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// One HTTP/1.0 GET on a new connection (the server closes it); whether a 200 came back.
    static func httpGet(ip: String, port: Int, path: String = "/") -> Bool {
        guard let fd = connect(ip: ip, port: port, type: Int32(SOCK_STREAM.rawValue), timeoutMilliseconds: 5000) else { return false }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: bench\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var head: [UInt8] = []
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            if head.count < 16 { head += buffer.prefix(n) }
        }
        return head.starts(with: Array("HTTP/1.0 200".utf8)) || head.starts(with: Array("HTTP/1.1 200".utf8))
    }
}
