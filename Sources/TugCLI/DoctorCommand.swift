import ArgumentParser
import Foundation
import TugAPI
import TugOS
import TugRegistry
import TugStorageSQLite

/// `tug doctor`: checks this host for what the node agent needs, and a server's store for records it cannot read,
/// one line per check, with the fix for each problem.
struct DoctorCommand: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "Check this host (and a server's store) for what Tugboat needs.")

    @Option(help: "A server's data directory whose store to check (skipped when it has none).")
    var dataDir = "/var/lib/tugboat"

    func execute() async throws {
        var findings = await HostDoctor(host: LocalHostInspector()).check()
        findings += storeFindings()
        for f in findings {
            print(f.ok ? "ok    \(f.check): \(f.detail)" : "FAIL  \(f.check): \(f.detail) — fix: \(f.fix)")
        }
        let failed = findings.filter { !$0.ok }.count
        if failed > 0 { throw CommandFailure("\(failed) check\(failed == 1 ? "" : "s") failed") }
    }

    /// Records the server skips at start-up because they cannot be read, one finding each.
    func storeFindings() -> [HostDoctor.Finding] {
        let path = "\(dataDir)/server/db/state.db"
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let fix = "delete the object and create it again (kubectl delete/create), or restore the store from a backup"
        do {
            let corrupt = try SQLiteBackend.corruptRecords(path: path, indexer: StorageKeys.indexer(scheme: .builtIn))
            if corrupt.isEmpty { return [HostDoctor.Finding(check: "store", ok: true, detail: "every record in \(path) is readable", fix: "")] }
            return corrupt.map { HostDoctor.Finding(check: "store", ok: false, detail: "corrupt record \($0.key): \($0.reason)", fix: fix) }
        } catch {
            return [HostDoctor.Finding(check: "store", ok: false, detail: "cannot read \(path): \(error)", fix: "check the file and its directory")]
        }
    }
}
