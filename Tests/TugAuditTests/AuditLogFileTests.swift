import Foundation
import Testing
@testable import TugAudit

@Suite struct AuditLogFileTests {
    func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tug-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func appendsPrivatelyAndRotatesKeepingTheNewestBackups() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try AuditLogFile(path: "\(dir)/logs/audit.log", maxMegabytes: 1, maxBackups: 2)
        let line = [UInt8](repeating: 0x61, count: 1023) + [0x0A]
        #expect((try FileManager.default.attributesOfItem(atPath: "\(dir)/logs/audit.log")[.posixPermissions] as? Int) == 0o600)
        for _ in 0..<(4 * 1024) { log.write(line) }
        log.write(line)
        let backups = log.backups()
        #expect(backups.count == 2, "\(backups)")
        for backup in backups {
            #expect(backup.hasSuffix(".log") && backup.contains("/audit-"))
            #expect((try FileManager.default.attributesOfItem(atPath: backup)[.size] as? Int) == 1 << 20, "a backup holds whole lines up to the size")
        }
        #expect((try FileManager.default.attributesOfItem(atPath: "\(dir)/logs/audit.log")[.size] as? Int) == 1024)
    }

    @Test func backupNamesAreLumberjacks() {
        let name = AuditLogFile.backupName("/var/log/audit.log", at: Date(timeIntervalSince1970: 1_800_000_000.25))
        #expect(name == "/var/log/audit-2027-01-15T08-00-00.250.log")
        #expect(AuditLogFile.backupName("/var/log/audit", at: Date(timeIntervalSince1970: 0)) == "/var/log/audit-1970-01-01T00-00-00.000")
    }
}
