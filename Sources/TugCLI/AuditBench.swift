import ArgumentParser
import Foundation
import TugAPIMachinery

/// `tug bench audit`: ConfigMap creates and reads against a fresh `tug server` without an audit log, then with
/// every request audited at Metadata and at RequestResponse (a file under the data dir), one client, so the figures
/// show what an event line costs a request.
struct AuditBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Benchmark requests without and with the audit log.")

    @Option(help: "ConfigMaps to create (and read back) per server.")
    var objects = 1000

    func execute() async throws {
        print("command: tug bench audit --objects \(objects)")
        let payload = String(repeating: "c", count: 1024)
        let audited = ["--disable-agent", "--audit-policy-file", "{data-dir}/policy.yaml", "--audit-log-path", "{data-dir}/audit/audit.log"]
        for (label, level) in [("no audit log", nil), ("Metadata", "Metadata"), ("RequestResponse", "RequestResponse")] as [(String, String?)] {
            var lines = 0
            let (creates, reads) = try await WriteReadRound.run(
                arguments: level == nil ? ["--disable-agent"] : audited, count: objects, collection: "/api/v1/namespaces/default/configmaps",
                object: { i in ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("c\(i)")], "data": ["value": .string(payload)]] },
                prepare: { dataDir in
                    guard let level else { return }
                    try "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: \(level)\n".write(toFile: "\(dataDir)/policy.yaml", atomically: true, encoding: .utf8)
                },
                finish: { dataDir in
                    lines = ((try? String(contentsOfFile: "\(dataDir)/audit/audit.log", encoding: .utf8)) ?? "").split(separator: "\n").count
                })
            print("create 1 KiB ConfigMap, \(label): \(APIBench.percentiles(creates))")
            print("get ConfigMap, \(label): \(APIBench.percentiles(reads))" + (level == nil ? "" : " (\(lines) event lines)"))
        }
    }
}
