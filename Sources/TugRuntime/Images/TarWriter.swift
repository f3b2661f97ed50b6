/// Writes POSIX ustar archives deterministically (mtime 0, uid/gid 0): image layers built here hash the same on every
/// machine, so the built-in image has a stable digest.
public struct TarWriter {
    public enum EntryType: UInt8 { case file = 0x30, symlink = 0x32, directory = 0x35 }

    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func directory(_ path: String, mode: Int = 0o755) {
        append(path.hasSuffix("/") ? path : path + "/", type: .directory, mode: mode, size: 0, link: "")
    }

    public mutating func file(_ path: String, contents: [UInt8], mode: Int = 0o644) {
        append(path, type: .file, mode: mode, size: contents.count, link: "")
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    public mutating func symlink(_ path: String, target: String) {
        append(path, type: .symlink, mode: 0o777, size: 0, link: target)
    }

    /// Two zero blocks end the archive.
    public mutating func finish() -> [UInt8] {
        bytes += [UInt8](repeating: 0, count: 1024)
        return bytes
    }

    mutating func append(_ path: String, type: EntryType, mode: Int, size: Int, link: String) {
        var header = [UInt8](repeating: 0, count: 512)
        var name = Array(path.utf8)
        var prefix: [UInt8] = []
        if name.count > 100, let slash = path.utf8.prefix(155).lastIndex(of: UInt8(ascii: "/")) {
            let split = path.utf8.distance(from: path.utf8.startIndex, to: slash)
            prefix = Array(name[..<split])
            name = Array(name[(split + 1)...])
        }
        func put(_ field: [UInt8], at offset: Int, length: Int) {
            for (i, b) in field.prefix(length).enumerated() { header[offset + i] = b }
        }
        func octal(_ value: Int, length: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0, length: 100)
        put(octal(mode, length: 8), at: 100, length: 8)
        put(octal(0, length: 8), at: 108, length: 8)
        put(octal(0, length: 8), at: 116, length: 8)
        put(octal(size, length: 12), at: 124, length: 12)
        put(octal(0, length: 12), at: 136, length: 12)
        header[156] = type.rawValue
        put(Array(link.utf8), at: 157, length: 100)
        put(Array("ustar\u{0}00".utf8), at: 257, length: 8)
        put(prefix, at: 345, length: 155)
        // The checksum is computed with its own field as spaces.
        for i in 148..<156 { header[i] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(sum, radix: 8).leftPadded(to: 6).utf8) + [0, 0x20], at: 148, length: 8)
        bytes += header
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
