import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a set of files into a volume directory so that readers see either the old or the new set, never a mix:
/// the kubelet's layout, `..<timestamp>/` with the files, `..data` → that directory (swapped by rename), and one
/// `name` → `..data/name` symlink per top-level entry. Used for configMap, secret, downwardAPI and projected volumes.
struct AtomicWriter {
    let directory: String
    /// Owner of the published directory and files (nil: root).
    var owner: (uid: UInt32, gid: UInt32)? = nil

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `files` maps relative paths to contents and modes. Returns whether anything changed.
    @discardableResult
    func write(_ files: [String: (bytes: [UInt8], mode: Int)]) throws -> Bool {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if current() == files.mapValues({ $0.bytes }) { return false }
        let stamp = "..\(Int(Date().timeIntervalSince1970 * 1000))_\(UInt32.random(in: 0...UInt32.max))"
        let staging = "\(directory)/\(stamp)"
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        if let owner { chown(staging, owner.uid, owner.gid) }
        for (path, file) in files {
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains(".."), !path.hasPrefix("..") else {
                throw Failure(description: "invalid path \"\(path)\" in volume")
            }
            let full = "\(staging)/\(path)"
            try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // Created with its final mode: a secret is never readable by others, not even for a moment.
            guard fm.createFile(atPath: full, contents: Data(file.bytes), attributes: [.posixPermissions: file.mode & 0o7777]) else {
                throw Failure(description: "cannot write \(full)")
            }
            chmod(full, mode_t(file.mode & 0o7777))
            if let owner { chown(full, owner.uid, owner.gid) }
        }
        let previous = try? fm.destinationOfSymbolicLink(atPath: "\(directory)/..data")
        let temporaryLink = "\(directory)/..data_tmp"
        unlink(temporaryLink)
        guard symlink(stamp, temporaryLink) == 0, rename(temporaryLink, "\(directory)/..data") == 0 else {
            throw Failure(description: "cannot switch \(directory)/..data: \(String(cString: strerror(errno)))")
        }
        let topLevel = Set(files.keys.map { String($0.split(separator: "/")[0]) })
        for name in topLevel where (try? fm.destinationOfSymbolicLink(atPath: "\(directory)/\(name)")) == nil {
            symlink("..data/\(name)", "\(directory)/\(name)")
        }
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix("..") && !topLevel.contains(name) {
            unlink("\(directory)/\(name)")
        }
        if let previous, previous != stamp { try? fm.removeItem(atPath: "\(directory)/\(previous)") }
        return true
    }

    /// The files currently published (relative path → bytes).
    func current() -> [String: [UInt8]]? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/..data") else { return nil }
        let data = "\(directory)/\(target)"
        guard let walker = FileManager.default.enumerator(atPath: data) else { return nil }
        var files: [String: [UInt8]] = [:]
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(data)/\(relative)", isDirectory: &isDirectory), !isDirectory.boolValue {
                files[relative] = FileManager.default.contents(atPath: "\(data)/\(relative)").map { [UInt8]($0) } ?? []
            }
        }
        return files
    }
}
