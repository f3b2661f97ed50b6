import Foundation
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// The on-disk records of sandboxes and containers (`<root>/sandboxes/<id>/info.json`, `<root>/containers/<id>/info.json`):
/// written atomically on every state change, read back after a restart so running containers are adopted, not
/// duplicated.
struct RuntimeRecords: Sendable {
    let root: String

    var sandboxRoot: String { "\(root)/sandboxes" }
    var containerRoot: String { "\(root)/containers" }
    func sandboxDirectory(_ id: String) -> String { "\(sandboxRoot)/\(id)" }
    func containerDirectory(_ id: String) -> String { "\(containerRoot)/\(id)" }

    init(root: String) throws {
        self.root = root
        for directory in [sandboxRoot, containerRoot] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    func save<T: Encodable>(_ value: T, in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        let temporary = "\(directory)/info.json.tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, "\(directory)/info.json") == 0 else {
            throw RuntimeError("save \(directory)/info.json: \(String(cString: strerror(errno)))")
        }
    }

    func load<T: Decodable>(_ type: T.Type, in directory: String) -> T? {
        guard let data = FileManager.default.contents(atPath: "\(directory)/info.json") else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }

    func all<T: Decodable>(_ type: T.Type, under directory: String) -> [T] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().compactMap { load(type, in: "\(directory)/\($0)") }
    }

    static func newID() -> String {
        (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
    }

    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, spec.tv_nsec)
    }
}
