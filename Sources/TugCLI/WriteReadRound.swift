import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TugAPIMachinery
import TugClient

/// One round of a write/read benchmark: a fresh `tug server` with `arguments`, `count` objects made from
/// `object(i)` by POST to `collection` one after another, then each read back by GET. Returns the latencies.
enum WriteReadRound {
    static func run(arguments: [String], count: Int, collection: String, object: (Int) -> JSONValue,
                    prepare: (String) throws -> Void = { _ in }, finish: (String) -> Void = { _ in }) async throws -> (writes: [Duration], reads: [Duration]) {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        try prepare(dataDir)
        let (process, client, _) = try await BenchServer.start(dataDir: dataDir, port: try FreePort.find(),
                                                              arguments: arguments.map { $0.replacingOccurrences(of: "{data-dir}", with: dataDir) })
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var writes: [Duration] = [], reads: [Duration] = []
        for i in 0..<count {
            let start = ContinuousClock.now
            _ = try await client.create(collection, object(i))
            writes.append(ContinuousClock.now - start)
        }
        for i in 0..<count {
            let start = ContinuousClock.now
            _ = try await client.send(.GET, "\(collection)/\(object(i)["metadata"]["name"].stringValue ?? "")")
            reads.append(ContinuousClock.now - start)
        }
        try await client.shutdown()
        finish(dataDir)
        return (writes, reads)
    }
}
