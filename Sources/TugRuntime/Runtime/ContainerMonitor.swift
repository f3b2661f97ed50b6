import Foundation
import TugAPIMachinery
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// Starts containers through `tug __monitor` (C, see CTugShim/tug_monitor.c): one detached process per container
/// that owns its stdio, writes the CRI log and records the exit status, so containers outlive the agent.
public struct ContainerMonitor: Sendable {
    /// The `tug` binary to re-execute (this process's own executable).
    public let executable: String
    public let runc: Runc
    let runner: any CommandRunner
    public var logMaxBytes: Int = 10 * 1024 * 1024
    public var logMaxFiles: Int = 5

    public init(executable: String = ContainerMonitor.currentExecutable, runc: Runc, runner: any CommandRunner) {
        self.executable = executable
        self.runc = runc
        self.runner = runner
    }

    /// This process's binary; after an upgrade in place (the old file replaced while running) the new one at the
    /// same path.
    public static var currentExecutable: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return path.hasSuffix(" (deleted)") ? String(path.dropLast(" (deleted)".count)) : path
    }

    public struct Files: Sendable, Hashable {
        public var bundle: String
        public var log: String
        /// Unix sockets live under a short directory (a socket path must fit in 108 bytes).
        public var socketDirectory: String? = nil
        public var exitFile: String { "\(bundle)/exit" }
        public var pidFile: String { "\(bundle)/pid" }
        public var runcLog: String { "\(bundle)/runc.log" }

        public init(bundle: String, log: String, socketDirectory: String? = nil) {
            self.bundle = bundle
            self.log = log
            self.socketDirectory = socketDirectory
        }

        var socketStem: String? {
            socketDirectory.map { "\($0)/\((bundle as NSString).lastPathComponent.prefix(24))" }
        }

        /// Where `kubectl attach` reaches the container's stdio (see tug_attach.c).
        public var attachSocket: String? { socketStem.map { $0 + ".attach" } }
        var consoleSocket: String? { socketStem.map { $0 + ".console" } }
    }

    public struct StartFailure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A started container: its pid, its monitor's, and when the monitor saw it start (RFC 3339, nanoseconds).
    public struct Started: Sendable, Hashable {
        public var pid: Int32
        public var monitor: Int32
        public var startedAt: String?
    }

    /// Runs the bundle as container `id`; returns once it runs.
    public func start(id: String, files: Files, stdin: Bool = false, stdinOnce: Bool = false, tty: Bool = false) async throws -> Started {
        var argv = [executable, "__monitor", "--runc", runc.binary, "--root", runc.root, "--bundle", files.bundle, "--id", id,
                    "--log", files.log, "--exit-file", files.exitFile, "--pid-file", files.pidFile, "--runc-log", files.runcLog,
                    "--log-max-bytes", String(logMaxBytes), "--log-max-files", String(logMaxFiles)]
        if let attach = files.attachSocket { argv += ["--attach-socket", attach] }
        if stdin { argv += ["--stdin"] + (stdinOnce ? ["--stdin-once"] : []) }
        if tty, let console = files.consoleSocket { argv += ["--tty", "--console-socket", console] }
        let result = try await runner.run(Command(argv, timeout: .seconds(60), maxOutputBytes: 64 * 1024))
        let report = (try? JSONParser.parseValue(result.stdout)) ?? .null
        if let pid = report["pid"].intValue, let monitor = report["monitor"].intValue, result.status == 0 {
            return Started(pid: Int32(pid), monitor: Int32(monitor), startedAt: report["startedAt"].stringValue)
        }
        var message = report["error"].stringValue ?? "container monitor failed (status \(result.status)): \(result.stderrText)"
        if report["runcLog"].boolValue == true, let detail = Runc.lastError(inLog: files.runcLog) { message = detail }
        throw StartFailure(description: message)
    }

    /// The recorded exit of a container whose monitor saw it end.
    public struct Exit: Sendable, Hashable {
        public var exitCode: Int32
        public var signal: Int32
        public var finishedAt: String
    }

    public static func exit(of files: Files) -> Exit? {
        guard let data = FileManager.default.contents(atPath: files.exitFile),
              let value = try? JSONParser.parseValue([UInt8](data)), let code = value["exitCode"].intValue else { return nil }
        return Exit(exitCode: Int32(code), signal: Int32(value["signal"].intValue ?? 0), finishedAt: value["finishedAt"].stringValue ?? "")
    }

    /// What a container's files and processes say about it, all from one look.
    public enum Observation: Sendable, Hashable {
        /// The container, or its monitor still writing the exit, runs.
        case running
        /// The monitor recorded the exit.
        case exited(Exit)
        /// Container and monitor are both gone and no exit was recorded (the monitor was killed, the node rebooted).
        case vanished
    }

    /// The monitor writes the exit file and then exits, and the container's init is gone a moment before that: the
    /// liveness of both is taken once, after a first read of the file, and the file read again once both are seen
    /// gone. Deciding liveness twice (once to skip the second read, once to call the container lost) reported a
    /// container that exited normally as killed (137, ContainerStatusUnknown; seen twice in CI).
    public static func observe(_ files: Files, pid: Int32, monitor: Int32) -> Observation {
        if let exit = exit(of: files) { return .exited(exit) }
        if isAlive(pid) || isAlive(monitor) { return .running }
        return exit(of: files).map(Observation.exited) ?? .vanished
    }

    /// Whether `pid` is a live (non-zombie) process.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = ProcFS.read("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}
