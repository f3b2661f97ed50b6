import Foundation
import CTugShim
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// Unpacked image layers: each layer blob is extracted once into `<root>/<blob hex>/` (read-only from then on) and
/// shared by every container whose overlay stacks it. OCI whiteouts become overlayfs ones: `.wh.NAME` a 0/0
/// character device, `.wh..wh..opq` the `trusted.overlay.opaque` attribute on its directory.
public struct LayerStore: Sendable {
    public let root: String
    let blobs: BlobStore
    let runner: any CommandRunner

    public init(root: String, blobs: BlobStore, runner: any CommandRunner) throws {
        self.root = root
        self.blobs = blobs
        self.runner = runner
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    public func path(_ layer: Digest) -> String { "\(root)/\(layer.hex)" }

    /// The unpacked directory of a layer blob, extracting it first if needed. Extraction goes to a temporary
    /// directory renamed into place, so a crash never leaves a half-unpacked layer under its name.
    public func unpacked(_ layer: Digest) async throws -> String {
        let target = path(layer)
        if FileManager.default.fileExists(atPath: target) { return target }
        let temporary = "\(root)/.tmp-\(layer.hex.prefix(16))-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        do {
            let blob = blobs.path(layer)
            var argv = ["tar", "-x", "-f", blob, "-C", temporary, "--numeric-owner", "--same-owner", "--same-permissions",
                        "--no-overwrite-dir"]
            switch try Self.compression(of: blob) {
            case .gzip: argv.append("-z")
            case .zstd: argv.append("--zstd")
            case .none: break
            }
            _ = try await runner.output(Command(argv, timeout: .seconds(300), maxOutputBytes: 64 * 1024))
            try Self.convertWhiteouts(in: temporary)
            guard rename(temporary, target) == 0 || FileManager.default.fileExists(atPath: target) else {
                throw BlobStore.Failure.io("rename \(temporary): \(String(cString: strerror(errno)))")
            }
            if FileManager.default.fileExists(atPath: temporary) { try? Self.removeTree(temporary) }
            return target
        } catch {
            try? Self.removeTree(temporary)
            throw error
        }
    }

    /// Removes unpacked layers no longer in `keep`.
    public func collect(keeping keep: Set<Digest>) throws -> [Digest] {
        var removed: [Digest] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root) {
            if name.hasPrefix(".tmp-") { try? Self.removeTree("\(root)/\(name)"); continue }
            guard let digest = Digest("sha256:\(name)"), !keep.contains(digest) else { continue }
            try Self.removeTree("\(root)/\(name)")
            removed.append(digest)
        }
        return removed
    }

    enum Compression { case none, gzip, zstd }

    static func compression(of path: String) throws -> Compression {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BlobStore.Failure.io("layer \(path) not found") }
        defer { try? handle.close() }
        let magic = [UInt8](handle.readData(ofLength: 4))
        if magic.starts(with: [0x1F, 0x8B]) { return .gzip }
        if magic == [0x28, 0xB5, 0x2F, 0xFD] { return .zstd }
        return .none
    }

    static func convertWhiteouts(in directory: String) throws {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return }
        var whiteouts: [String] = []
        while let relative = walker.nextObject() as? String {
            if (relative as NSString).lastPathComponent.hasPrefix(".wh.") { whiteouts.append(relative) }
        }
        for relative in whiteouts {
            let full = "\(directory)/\(relative)"
            let parent = (full as NSString).deletingLastPathComponent
            let name = (full as NSString).lastPathComponent
            unlink(full)
            if name == ".wh..wh..opq" {
                guard tug_set_overlay_opaque(parent) == 0 else {
                    throw BlobStore.Failure.io("mark \(parent) opaque: \(String(cString: strerror(errno)))")
                }
            } else {
                let hidden = "\(parent)/\(name.dropFirst(4))"
                guard mknod(hidden, S_IFCHR | 0o000, 0) == 0 else {
                    throw BlobStore.Failure.io("whiteout \(hidden): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// `rm -rf` without following symlinks (layers contain absolute symlinks that point into the host otherwise).
    static func removeTree(_ path: String) throws {
        try FileManager.default.removeItem(atPath: path)
    }
}
