import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed blobs under `<root>/blobs/sha256/<hex>` (the OCI image layout). A blob is written to a temporary
/// file, fsynced and renamed into place, so a crash never leaves a partial blob under its digest; reads verify nothing
/// (the name is the checksum), writes verify an expected digest before the rename.
public struct BlobStore: Sendable {
    public let root: String

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case digestMismatch(expected: Digest, actual: Digest)
        case io(String)
        public var description: String {
            switch self {
            case .digestMismatch(let e, let a): return "blob digest mismatch: expected \(e), got \(a)"
            case .io(let message): return message
            }
        }
    }

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: "\(root)/blobs/sha256", withIntermediateDirectories: true)
    }

    public func path(_ digest: Digest) -> String { "\(root)/blobs/sha256/\(digest.hex)" }
    public func contains(_ digest: Digest) -> Bool { FileManager.default.fileExists(atPath: path(digest)) }

    /// Stores bytes; with `expected`, refuses content that does not hash to it.
    @discardableResult
    public func put(_ bytes: [UInt8], expected: Digest? = nil) throws -> Digest {
        let digest = Digest(of: bytes)
        if let expected, expected != digest { throw Failure.digestMismatch(expected: expected, actual: digest) }
        if contains(digest) { return digest }
        let temporary = "\(root)/blobs/.tmp-\(UUID().uuidString)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure.io("create \(temporary): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(temporary)
                throw Failure.io("write \(temporary): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        guard fsync(fd) == 0, close(fd) == 0, rename(temporary, path(digest)) == 0 else {
            unlink(temporary)
            throw Failure.io("store blob \(digest): \(String(cString: strerror(errno)))")
        }
        return digest
    }

    /// Stores a file's content without holding it in memory: hashed while copied, verified against `expected`.
    @discardableResult
    public func putFile(_ source: String, expected: Digest? = nil) throws -> (digest: Digest, size: Int64) {
        if let expected, contains(expected) { return (expected, Int64(size(expected))) }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw Failure.io("open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let temporary = "\(root)/blobs/.tmp-\(UUID().uuidString)"
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw Failure.io("create \(temporary): \(String(cString: strerror(errno)))") }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total: Int64 = 0
        var failed: String? = nil
        while failed == nil {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { failed = "read \(source): \(String(cString: strerror(errno)))"; break }
            if n == 0 { break }
            hasher.update(data: buffer[0..<n])
            total += Int64(n)
            var offset = 0
            while offset < n {
                let w = buffer[offset..<n].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { failed = "write \(temporary): \(String(cString: strerror(errno)))"; break }
                offset += w
            }
        }
        let digest = Digest(hex: hasher.finalize().map { String(format: "%02x", $0) }.joined())
        if failed == nil, let expected, expected != digest { failed = Failure.digestMismatch(expected: expected, actual: digest).description }
        if failed == nil, fsync(output) != 0 { failed = "fsync \(temporary): \(String(cString: strerror(errno)))" }
        close(output)
        if let failed {
            unlink(temporary)
            throw Failure.io(failed)
        }
        if contains(digest) {
            unlink(temporary)
        } else if rename(temporary, path(digest)) != 0 {
            unlink(temporary)
            throw Failure.io("store blob \(digest): \(String(cString: strerror(errno)))")
        }
        return (digest, total)
    }

    public func size(_ digest: Digest) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path(digest)))?[.size] as? Int) ?? 0
    }

    public func get(_ digest: Digest) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(digest)) else { throw Failure.io("blob \(digest) not found") }
        return [UInt8](data)
    }

    public func delete(_ digest: Digest) throws {
        if contains(digest) { try FileManager.default.removeItem(atPath: path(digest)) }
    }

    public func list() -> [Digest] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/blobs/sha256")) ?? []).compactMap { Digest("sha256:\($0)") }.sorted()
    }
}
