import ArgumentParser
import Foundation
import TugAPIServer
import TugAudit

/// kube-apiserver's audit log flags. Off by default: it is on when both a policy and a path are given.
struct AuditOptions: ParsableArguments {
    @Option(help: "An audit.k8s.io/v1 Policy (YAML or JSON) saying what is logged at which level, as kube-apiserver's flag.")
    var auditPolicyFile: String?

    @Option(help: "Where audit events go, one JSON object a line (- for standard output).")
    var auditLogPath: String?

    @Option(help: "Size in megabytes at which the audit log is rotated (0: 100).")
    var auditLogMaxsize = 0

    @Option(help: "Rotated audit logs kept (0: all).")
    var auditLogMaxbackup = 0

    @Option(help: "Days a rotated audit log is kept (0: no limit).")
    var auditLogMaxage = 0

    @Option(help: "Format of the audit log: json (the only one).")
    var auditLogFormat = "json"

    func backend() throws -> AuditBackend? {
        guard auditLogFormat == "json" else { throw CommandFailure("--audit-log-format: only json is supported, got \"\(auditLogFormat)\"") }
        guard auditLogMaxsize >= 0, auditLogMaxbackup >= 0, auditLogMaxage >= 0 else {
            throw CommandFailure("--audit-log-maxsize, --audit-log-maxbackup and --audit-log-maxage must not be negative")
        }
        guard let auditPolicyFile, let auditLogPath, !auditLogPath.isEmpty else {
            if auditPolicyFile == nil, auditLogPath != nil { throw CommandFailure("--audit-log-path needs --audit-policy-file") }
            return nil
        }
        guard let text = try? String(contentsOfFile: auditPolicyFile, encoding: .utf8) else {
            throw CommandFailure("--audit-policy-file: cannot read \(auditPolicyFile)")
        }
        let policy: AuditPolicy
        do { policy = try AuditPolicy.parse(text) } catch { throw CommandFailure("--audit-policy-file \(auditPolicyFile): \(error)") }
        if auditLogPath == "-" { return AuditBackend(policy: policy, sink: AuditStandardOutput()) }
        do {
            let file = try AuditLogFile(path: auditLogPath, maxMegabytes: auditLogMaxsize, maxBackups: auditLogMaxbackup, maxAgeDays: auditLogMaxage)
            return AuditBackend(policy: policy, sink: file)
        } catch {
            throw CommandFailure("--audit-log-path: \(error)")
        }
    }
}
