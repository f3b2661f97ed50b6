import Foundation
import Testing
@testable import TugCLI

@Suite struct DataDirLockTests {
    func makeDataDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-lock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(dir)/server", withIntermediateDirectories: true)
        return dir
    }

    @Test func secondLockOnTheSameDataDirFails() throws {
        let dir = try makeDataDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(!DataDirLock.isHeld(dataDir: dir))
        var lock: DataDirLock? = try DataDirLock(dataDir: dir)
        #expect(lock != nil)
        #expect(DataDirLock.isHeld(dataDir: dir))
        do {
            _ = try DataDirLock(dataDir: dir)
            Issue.record("a second lock on the same data dir must fail")
        } catch {
            #expect(error.description.contains("pid \(getpid())"))
        }
        lock = nil
        #expect(!DataDirLock.isHeld(dataDir: dir))
        _ = try DataDirLock(dataDir: dir)
    }
}

@Suite struct FreePortTests {
    @Test func findsAPortNobodyListensOn() throws {
        let port = try FreePort.find()
        #expect((1...65535).contains(port))
        #expect(!FreePort.isListening(port))
    }
}
