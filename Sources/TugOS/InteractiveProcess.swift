import CTugShim
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child whose stdio is streamed rather than collected (exec sessions): stdout and stderr arrive as chunks while
/// it runs, stdin is written on demand and closed on request. Blocking reads and writes run on their own threads.
public final class InteractiveProcess: Sendable {
    public enum Output: Sendable, Equatable {
        case stdout([UInt8])
        case stderr([UInt8])
    }

    public let pid: pid_t
    /// Output in the order it was read; finishes when both pipes reach EOF.
    public let output: AsyncStream<Output>
    private let stdinFD: Descriptor
    private let exit: AsyncStream<Int32>
    private let writer = DispatchQueue(label: "tug.interactive.stdin")

    /// Starts `argv`; with `stdin` false the child reads /dev/null.
    public init(argv: [String], environment: [String: String] = Command.defaultEnvironment, stdin: Bool) throws {
        let path = try ProcessCommandRunner.resolve(argv.first ?? "", path: environment["PATH"])
        var fds = [[Int32]](repeating: [-1, -1], count: 3)
        for i in 0..<3 where i > 0 || stdin {
            guard tug_pipe_cloexec(&fds[i]) == 0 else {
                throw CommandError(argv: argv, kind: .launchFailed, stderrTail: "pipe2: \(String(cString: strerror(errno)))")
            }
        }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let childStdin = stdin ? fds[0][0] : null
        defer {
            close(null)
            if stdin { close(fds[0][0]) }
            close(fds[1][1])
            close(fds[2][1])
        }
        do {
            pid = try ChildProcess.spawn(path: path, argv: argv, environment: environment, stdio: (childStdin, fds[1][1], fds[2][1]))
        } catch {
            if stdin { close(fds[0][1]) }
            close(fds[1][0])
            close(fds[2][0])
            throw error
        }
        stdinFD = Descriptor(stdin ? fds[0][1] : -1)
        exit = ChildProcess.exitStatus(of: pid)
        let (stream, continuation) = AsyncStream<Output>.makeStream()
        output = stream
        let open = Mutex(2)
        for (fd, isError) in [(fds[1][0], false), (fds[2][0], true)] {
            Thread.detachNewThread {
                Self.readAll(fd) { chunk in continuation.yield(isError ? .stderr(chunk) : .stdout(chunk)) }
                close(fd)
                if open.withLock({ count in count -= 1; return count }) == 0 { continuation.finish() }
            }
        }
    }

    /// Reads `fd` until EOF, handing each chunk to `emit`.
    public static func readAll(_ fd: Int32, emit: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            emit(Array(buffer[0..<n]))
        }
    }

    /// Writes all of `bytes` to `fd` (blocking; call off the cooperative pool). Returns false once the reader is gone.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Writes to the child's stdin (ignored when it has none or it was closed).
    public func write(_ bytes: [UInt8]) async {
        let fd = stdinFD.current
        guard fd >= 0 else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            writer.async {
                Self.writeAll(fd, bytes)
                done.resume()
            }
        }
    }

    /// Closes stdin so the child reads EOF (after pending writes).
    public func closeStdin() {
        writer.async { [stdinFD] in stdinFD.close() }
    }

    /// Exit status; 128+signal when killed.
    public func exitStatus() async -> Int32 {
        for await code in exit { return code }
        return -1
    }

    public func signalGroup(_ signal: Int32) {
        kill(-pid, signal)
    }

    deinit {
        stdinFD.close()
    }
}

/// A file descriptor shared between tasks, closed at most once.
public final class Descriptor: Sendable {
    private let value: Mutex<Int32>

    public init(_ fd: Int32) {
        value = Mutex(fd)
    }

    /// The descriptor, or -1 once closed.
    public var current: Int32 { value.withLock { $0 } }

    public func close() {
        let fd = value.withLock { fd -> Int32 in
            defer { fd = -1 }
            return fd
        }
        if fd >= 0 { Glibc.close(fd) }
    }
}
