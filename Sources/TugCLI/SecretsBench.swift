import ArgumentParser
import TugAPIMachinery

/// `tug bench secrets`: Secret creates and reads against a fresh `tug server` without and with
/// `--secrets-encryption` (aescbc at rest), one client, so the figures show what encryption adds to a write
/// (reads are served from memory either way).
struct SecretsBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "secrets", abstract: "Benchmark Secret writes and reads with and without encryption at rest.")

    @Option(help: "Secrets to create (and read back) per server.")
    var secrets = 1000

    func execute() async throws {
        print("command: tug bench secrets --secrets \(secrets)")
        let payload = String(repeating: "s", count: 1024)
        for (label, arguments) in [("plain", ["--disable-agent"]), ("aescbc at rest", ["--disable-agent", "--secrets-encryption"])] {
            let (creates, reads) = try await WriteReadRound.run(arguments: arguments, count: secrets, collection: "/api/v1/namespaces/default/secrets") { i in
                ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string("s\(i)")], "stringData": ["value": .string(payload)]]
            }
            print("create 1 KiB Secret, \(label): \(APIBench.percentiles(creates))")
            print("get Secret, \(label): \(APIBench.percentiles(reads))")
        }
    }
}
