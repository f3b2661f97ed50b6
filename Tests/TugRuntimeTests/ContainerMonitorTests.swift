import Foundation
import Testing
@testable import TugRuntime
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ContainerMonitorTests {
    /// No process ever has this pid (pid_max is at most 2^22).
    let gone: Int32 = .max

    @Test func readsMonitorExitFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ContainerMonitor.Files(bundle: dir, log: "\(dir)/log")
        #expect(ContainerMonitor.exit(of: files) == nil)
        try #"{"exitCode":137,"signal":9,"finishedAt":"2026-01-01T00:00:00.5Z"}"#.write(toFile: files.exitFile, atomically: true, encoding: .utf8)
        #expect(ContainerMonitor.exit(of: files) == .init(exitCode: 137, signal: 9, finishedAt: "2026-01-01T00:00:00.5Z"))
        #expect(ContainerMonitor.isAlive(getpid()) && !ContainerMonitor.isAlive(0) && !ContainerMonitor.isAlive(gone))
    }

    @Test func observesRunningExitedAndVanished() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ContainerMonitor.Files(bundle: dir, log: "\(dir)/log")
        #expect(ContainerMonitor.observe(files, pid: getpid(), monitor: gone) == .running)
        #expect(ContainerMonitor.observe(files, pid: gone, monitor: getpid()) == .running)
        #expect(ContainerMonitor.observe(files, pid: gone, monitor: gone) == .vanished)
        try #"{"exitCode":0,"signal":0,"finishedAt":"2026-01-01T00:00:01Z"}"#.write(toFile: files.exitFile, atomically: true, encoding: .utf8)
        #expect(ContainerMonitor.observe(files, pid: gone, monitor: gone) == .exited(.init(exitCode: 0, signal: 0, finishedAt: "2026-01-01T00:00:01Z")))
    }

    /// The container's init is gone first; its monitor then writes the exit file and exits. Looked at in a tight
    /// loop across that moment, the container is running until it is exited, and never lost.
    @Test(arguments: 0..<32) func aMonitorThatWritesAndExitsIsNeverSeenLost(round: Int) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ContainerMonitor.Files(bundle: dir, log: "\(dir)/log")
        let monitor = Process()
        monitor.executableURL = URL(fileURLWithPath: "/bin/sh")
        monitor.arguments = ["-c", #"echo '{"exitCode":0,"signal":0,"finishedAt":"x"}' > "$1.tmp" && mv "$1.tmp" "$1""#, "sh", files.exitFile]
        try monitor.run()
        let deadline = ContinuousClock.now + .seconds(30)
        var seen = ContainerMonitor.Observation.running
        // Foundation reaps the child itself; a zombie counts as gone either way.
        while seen == .running, ContinuousClock.now < deadline {
            seen = ContainerMonitor.observe(files, pid: gone, monitor: monitor.processIdentifier)
        }
        monitor.waitUntilExit()
        #expect(seen == .exited(.init(exitCode: 0, signal: 0, finishedAt: "x")))
    }
}
