import CTugShim
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `CommandRunner` on `posix_spawn`: the child gets its own process group, default signal dispositions and no file
/// descriptors beyond stdin/stdout/stderr. The exit is collected by `waitpid` on a dedicated thread, output is read
/// (bounded) by poll loops that stop shortly after the exit even if a grandchild keeps the pipes open, and a timeout
/// sends SIGTERM to the whole group, then SIGKILL after the grace period.
///
/// (Foundation's `Process` on Linux reports an exit only once every inheritor of its internal descriptors is gone, and
/// its `waitUntilExit` spins; both are wrong for runc, CNI plugins and iptables.)
public struct ProcessCommandRunner: CommandRunner {
    public var killGrace: Duration

    public init(killGrace: Duration = .seconds(2)) {
        self.killGrace = killGrace
    }

    public func run(_ command: Command) async throws -> CommandResult {
        guard let name = command.argv.first else {
            throw CommandError(argv: command.argv, kind: .launchFailed, stderrTail: "empty argv")
        }
        let path = try Self.resolve(name, path: command.environment["PATH"])
        let child = try Spawned(path: path, argv: command.argv, environment: command.environment, limit: command.maxOutputBytes)
        child.feed(command.stdin)
        let (timeout, grace) = (command.timeout, killGrace)
        let outcome: (status: Int32, timedOut: Bool) = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await child.exitStatus() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var timedOut = false
            while let next = await group.next() {
                if let status = next {
                    group.cancelAll()
                    return (status, timedOut)
                }
                if !timedOut {
                    timedOut = true
                    child.signalGroup(SIGTERM)
                    group.addTask {
                        try? await Task.sleep(for: grace)
                        return nil
                    }
                } else {
                    child.signalGroup(SIGKILL)
                }
            }
            return (-1, timedOut)
        }
        let (stdout, stderr) = await child.collectOutput(waitingAtMost: .seconds(1))
        if outcome.timedOut {
            throw CommandError(argv: command.argv, kind: .timedOut, stderrTail: String(String(decoding: stderr, as: UTF8.self).suffix(2000)))
        }
        return CommandResult(status: outcome.status, stdout: stdout, stderr: stderr)
    }

    /// Finds an executable on the command's PATH (argv[0] may also be a path).
    static func resolve(_ name: String, path: String?) throws -> String {
        if name.contains("/") { return name }
        for dir in (path ?? Command.defaultEnvironment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw CommandError(argv: [name], kind: .launchFailed, stderrTail: "\(name): not found on PATH")
    }
}

/// One spawned child: its pid (also its process group) and the parent's ends of its pipes.
final class Spawned: Sendable {
    let pid: pid_t
    let stdinFD: Int32
    let stdout: PipeReader
    let stderr: PipeReader
    private let exit: AsyncStream<Int32>

    init(path: String, argv: [String], environment: [String: String], limit: Int) throws {
        var fds = [[Int32]](repeating: [-1, -1], count: 3)
        for i in 0..<3 {
            guard tug_pipe_cloexec(&fds[i]) == 0 else {
                throw CommandError(argv: argv, kind: .launchFailed, stderrTail: "pipe2: \(String(cString: strerror(errno)))")
            }
        }
        defer { for i in 0..<3 { close(fds[i][i == 0 ? 0 : 1]) } }  // the child's ends, in the parent

        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(path: path, argv: argv, environment: environment, stdio: (fds[0][0], fds[1][1], fds[2][1]))
        } catch {
            for i in 0..<3 { close(fds[i][i == 0 ? 1 : 0]) }
            throw error
        }
        self.pid = pid
        stdinFD = fds[0][1]
        stdout = PipeReader(fd: fds[1][0], limit: limit)
        stderr = PipeReader(fd: fds[2][0], limit: limit)
        stdout.start()
        stderr.start()
        exit = ChildProcess.exitStatus(of: pid)
    }

    /// Writes stdin and closes it (so the child sees EOF).
    func feed(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        close(stdinFD)
    }

    /// Exit status; 128+signal when killed.
    func exitStatus() async -> Int32 {
        for await code in exit { return code }
        return -1
    }

    func signalGroup(_ signal: Int32) {
        kill(-pid, signal)
    }

    func collectOutput(waitingAtMost limit: Duration) async -> ([UInt8], [UInt8]) {
        let deadline = ContinuousClock.now + limit
        stdout.stop(at: deadline)
        stderr.stop(at: deadline)
        return (await stdout.result(), await stderr.result())
    }
}

/// Reads one pipe on its own thread into a bounded buffer, until EOF or until told to stop.
final class PipeReader: Sendable {
    private struct State {
        var data: [UInt8] = []
        var deadline: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let done: AsyncStream<Void>
    private let finished: AsyncStream<Void>.Continuation
    private let fd: Int32
    private let limit: Int

    init(fd: Int32, limit: Int) {
        self.fd = fd
        self.limit = limit
        (done, finished) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Starts the reading thread (blocking reads never run on the cooperative pool).
    func start() {
        Thread.detachNewThread { [self] in
            readLoop()
            close(fd)
            finished.yield()
            finished.finish()
        }
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            if let deadline = state.withLock({ $0.deadline }), ContinuousClock.now >= deadline { return }
            let ready = poll(&pfd, 1, 50)
            if ready < 0 && errno != EINTR { return }
            if ready <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            state.withLock { s in
                let room = limit - s.data.count
                if room > 0 { s.data.append(contentsOf: buffer.prefix(min(n, room))) }
            }
        }
    }

    /// Stop reading at `deadline` even without EOF (a grandchild may hold the pipe).
    func stop(at deadline: ContinuousClock.Instant) {
        state.withLock { $0.deadline = deadline }
    }

    func result() async -> [UInt8] {
        for await _ in done { break }
        return state.withLock { $0.data }
    }
}
