import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Coordinates writers of the image store across processes (the agent pulling, `tug images import`/`rm` from the
/// command line): adding images takes the lock shared, garbage collection exclusive, so a collection never removes
/// the blobs of an image whose name is not written yet. An `flock` on `<images>/store.lock`, released with the
/// descriptor (even on `kill -9`).
public struct ImageStoreLock: Sendable {
    let path: String

    public init(root: String) {
        path = "\(root)/store.lock"
    }

    public func shared<T>(_ body: () async throws -> T) async throws -> T {
        try await locked(LOCK_SH, body)
    }

    public func exclusive<T>(_ body: () async throws -> T) async throws -> T {
        try await locked(LOCK_EX, body)
    }

    func locked<T>(_ operation: Int32, _ body: () async throws -> T) async throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BlobStore.Failure.io("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // Blocking flock off the cooperative pool would need a thread; poll the non-blocking form instead.
        while flock(fd, operation | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw BlobStore.Failure.io("lock \(path): \(String(cString: strerror(errno)))") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await body()
    }
}
