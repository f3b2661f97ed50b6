import CTugShim
import Foundation
import TugOS
#if canImport(Glibc)
import Glibc
#endif

/// A connection to a container monitor's attach socket (see tug_attach.c): the container's output from now on,
/// and its stdin and terminal size. It ends when the container exits (the monitor closes the socket).
final class AttachSession: ExecSession {
    let socket: Descriptor
    let output: AsyncStream<InteractiveProcess.Output>
    private let ended: AsyncStream<Void>
    private let writer = DispatchQueue(label: "tug.attach")

    init(path: String) throws {
        let fd = tug_unix_connect(path)
        guard fd >= 0 else { throw RuntimeError("cannot attach: \(String(cString: strerror(errno)))") }
        socket = Descriptor(fd)
        let (stream, continuation) = AsyncStream<InteractiveProcess.Output>.makeStream()
        output = stream
        let (endedStream, endedContinuation) = AsyncStream<Void>.makeStream()
        ended = endedStream
        Thread.detachNewThread {
            var pending: [UInt8] = []
            InteractiveProcess.readAll(fd) { chunk in
                pending += chunk
                while pending.count >= 5 {
                    let length = Int(pending[1]) << 24 | Int(pending[2]) << 16 | Int(pending[3]) << 8 | Int(pending[4])
                    guard pending.count >= 5 + length else { break }
                    let payload = Array(pending[5..<(5 + length)])
                    continuation.yield(pending[0] == 2 ? .stderr(payload) : .stdout(payload))
                    pending.removeFirst(5 + length)
                }
            }
            continuation.finish()
            endedContinuation.finish()
        }
    }

    func send(_ type: UInt8, _ payload: [UInt8]) async {
        let fd = socket.current
        guard fd >= 0 else { return }
        let count = payload.count
        let message = [type, UInt8(truncatingIfNeeded: count >> 24), UInt8(truncatingIfNeeded: count >> 16),
                       UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count)] + payload
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            writer.async {
                InteractiveProcess.writeAll(fd, message)
                done.resume()
            }
        }
    }

    func write(_ bytes: [UInt8]) async {
        // The monitor reads at most 64 KiB per message.
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 65536)
            await send(0, Array(bytes[offset..<end]))
            offset = end
        }
    }

    func closeStdin() { Task { await send(3, []) } }

    func resize(width: UInt16, height: UInt16) {
        Task { await send(4, [UInt8(height >> 8), UInt8(height & 0xff), UInt8(width >> 8), UInt8(width & 0xff)]) }
    }

    /// Attach has no exit status of its own: the session succeeded once the container's output ended.
    func wait() async -> Int32 {
        for await _ in ended {}
        return 0
    }

    func terminate() {
        // shutdown wakes the reading thread, which then ends the output; the descriptor closes with the session.
        let fd = socket.current
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    deinit { socket.close() }
}

extension LinuxRuntime {
    public func openAttach(_ id: String) async throws -> any ExecSession {
        guard let info = records.load(ContainerInfo.self, in: records.containerDirectory(id)), observed(info).state == .running,
              let path = files(id: id, log: info.logPath).attachSocket else {
            throw RuntimeError("container not found or not running")
        }
        return try AttachSession(path: path)
    }
}
