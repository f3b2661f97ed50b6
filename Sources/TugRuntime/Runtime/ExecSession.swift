import CTugShim
import Foundation
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// An interactive process in a container (`kubectl exec`, the `-i`/`-t` kinds): its output as it comes, its input,
/// terminal size, and exit status.
public protocol ExecSession: Sendable {
    var output: AsyncStream<InteractiveProcess.Output> { get }
    func write(_ bytes: [UInt8]) async
    func closeStdin()
    func resize(width: UInt16, height: UInt16)
    /// The exit status of the command (runc exec's, which is the process's).
    func wait() async -> Int32
    /// Ends the session early (the client went away).
    func terminate()
}

/// `runc exec` with the process on pipes.
struct PipeExecSession: ExecSession {
    let process: InteractiveProcess

    var output: AsyncStream<InteractiveProcess.Output> { process.output }
    func write(_ bytes: [UInt8]) async { await process.write(bytes) }
    func closeStdin() { process.closeStdin() }
    func resize(width: UInt16, height: UInt16) {}
    func wait() async -> Int32 { await process.exitStatus() }
    func terminate() { process.signalGroup(SIGKILL) }
}

/// `runc exec --tty` in the foreground on a terminal of ours: runc allocates the container's terminal and relays it
/// to its own (our pty's slave), forwarding resizes (SIGWINCH, raised by resizing our master) and returning the
/// command's exit status. (runc accepts a console socket only for detached processes, whose exit we could not
/// collect.)
final class TerminalExecSession: ExecSession {
    let pid: pid_t
    let master: Descriptor
    let output: AsyncStream<InteractiveProcess.Output>
    private let exit: AsyncStream<Int32>
    private let writer = DispatchQueue(label: "tug.exec.tty")

    init(argv: [String], environment: [String: String], size: (width: UInt16, height: UInt16)?) throws {
        var slave = [CChar](repeating: 0, count: 128)
        let masterFD = tug_openpty(&slave, UInt(slave.count))
        guard masterFD >= 0 else { throw RuntimeError("openpty: \(String(cString: strerror(errno)))") }
        // runc sizes the container's terminal after ours when it starts.
        if let size { _ = tug_set_winsize(masterFD, size.height, size.width) }
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgv + cEnv).forEach { free($0) } }
        var child: pid_t = 0
        let rc = tug_spawn_on_terminal(&child, argv[0], cArgv, cEnv, slave)
        guard rc == 0 else {
            close(masterFD)
            throw RuntimeError("\(argv[0]): \(String(cString: strerror(rc)))")
        }
        pid = child
        master = Descriptor(masterFD)
        exit = ChildProcess.exitStatus(of: child)
        let (stream, continuation) = AsyncStream<InteractiveProcess.Output>.makeStream()
        output = stream
        // Reading the master ends with EIO once runc (the last holder of the slave) exits.
        Thread.detachNewThread {
            InteractiveProcess.readAll(masterFD) { continuation.yield(.stdout($0)) }
            continuation.finish()
        }
    }

    func write(_ bytes: [UInt8]) async {
        let fd = master.current
        guard fd >= 0 else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            writer.async {
                InteractiveProcess.writeAll(fd, bytes)
                done.resume()
            }
        }
    }

    /// A terminal has no separate end of input: send ^D, as a user at the terminal would.
    func closeStdin() {
        Task { await write([0x04]) }
    }

    func resize(width: UInt16, height: UInt16) {
        let fd = master.current
        if fd >= 0 { _ = tug_set_winsize(fd, height, width) }
    }

    func wait() async -> Int32 {
        var status: Int32 = -1
        for await code in exit { status = code }
        return status
    }

    func terminate() { kill(-pid, SIGKILL) }

    deinit { master.close() }
}

extension LinuxRuntime {
    /// Starts `command` in running container `id`, on pipes or on a terminal.
    public func openExec(_ id: String, command: [String], tty: Bool, stdin: Bool, size: (width: UInt16, height: UInt16)?) async throws -> any ExecSession {
        guard let info = records.load(ContainerInfo.self, in: records.containerDirectory(id)), observed(info).state == .running else {
            throw RuntimeError("container not found or not running")
        }
        guard !command.isEmpty else { throw RuntimeError("no command given") }
        let base = [runc.binary, "--root", runc.root, "exec"]
        guard tty else {
            return PipeExecSession(process: try InteractiveProcess(argv: base + [id] + command, stdin: stdin))
        }
        return try TerminalExecSession(argv: base + ["--tty", "--env", "TERM=xterm", id] + command, environment: Command.defaultEnvironment, size: size)
    }
}
