import ArgumentParser
import TugOS

/// `tug doctor`: checks this host for what the node agent needs, one line per check, with the fix for each problem.
struct DoctorCommand: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "Check this host for what Tugboat needs.")

    func execute() async throws {
        let findings = await HostDoctor(host: LocalHostInspector()).check()
        for f in findings {
            print(f.ok ? "ok    \(f.check): \(f.detail)" : "FAIL  \(f.check): \(f.detail) — fix: \(f.fix)")
        }
        let failed = findings.filter { !$0.ok }.count
        if failed > 0 { throw CommandFailure("\(failed) check\(failed == 1 ? "" : "s") failed") }
    }
}
