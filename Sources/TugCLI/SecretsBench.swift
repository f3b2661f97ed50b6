import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TugAPIMachinery
import TugClient

/// `tug bench secrets`: Secret creates and reads against a fresh `tug server` without and with
/// `--secrets-encryption` (aescbc at rest), one client, so the figures show what encryption adds to a write
/// (reads are served from memory either way).
struct SecretsBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "secrets", abstract: "Benchmark Secret writes and reads with and without encryption at rest.")

    @Option(help: "Secrets to create (and read back) per server.")
    var secrets = 1000

    func execute() async throws {
        print("command: tug bench secrets --secrets \(secrets)")
        for (label, arguments) in [("plain", ["--disable-agent"]), ("aescbc at rest", ["--disable-agent", "--secrets-encryption"])] {
            let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-secrets-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: dataDir) }
            let (process, client, _) = try await BenchServer.start(dataDir: dataDir, port: try FreePort.find(), arguments: arguments)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let payload = String(repeating: "s", count: 1024)
            var creates: [Duration] = [], reads: [Duration] = []
            for i in 0..<secrets {
                let start = ContinuousClock.now
                _ = try await client.create("/api/v1/namespaces/default/secrets", [
                    "apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string("s\(i)")], "stringData": ["value": .string(payload)],
                ])
                creates.append(ContinuousClock.now - start)
            }
            for i in 0..<secrets {
                let start = ContinuousClock.now
                _ = try await client.send(.GET, "/api/v1/namespaces/default/secrets/s\(i)")
                reads.append(ContinuousClock.now - start)
            }
            print("create 1 KiB Secret, \(label): \(APIBench.percentiles(creates))")
            print("get Secret, \(label): \(APIBench.percentiles(reads))")
            try await client.shutdown()
        }
    }
}
