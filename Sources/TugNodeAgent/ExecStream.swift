import Foundation
import Synchronization
import HummingbirdWebSocket
import NIOCore
import TugAPIMachinery
import TugRuntime

/// The Kubernetes remote-command protocol (`v5.channel.k8s.io`; v4 is the same minus the stdin close signal) over
/// an upgraded WebSocket: binary messages whose first byte is the channel — 0 stdin, 1 stdout, 2 stderr,
/// 3 error/status, 4 resize (`{"Width":…,"Height":…}`), 255 close (v5: `ff 00` ends stdin).
enum ExecStream {
    static let stdin: UInt8 = 0, stdout: UInt8 = 1, stderr: UInt8 = 2, status: UInt8 = 3, resize: UInt8 = 4, close: UInt8 = 255

    /// `{"status":"Success"}` or the NonZeroExitCode Status kubectl turns into its own exit code.
    static func exitStatus(_ code: Int32) -> JSONValue {
        guard code != 0 else { return ["metadata": [:], "status": "Success"] }
        return ["metadata": [:], "status": "Failure", "message": .string("command terminated with non-zero exit code: exit status \(code)"),
                "reason": "NonZeroExitCode", "details": ["causes": [["reason": "ExitCode", "message": .string(String(code))]]]]
    }

    static func failure(_ message: String) -> JSONValue {
        ["metadata": [:], "status": "Failure", "message": .string(message), "reason": "InternalError", "code": 500]
    }

    static func frame(_ channel: UInt8, _ bytes: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + 1)
        buffer.writeInteger(channel)
        buffer.writeBytes(bytes)
        return buffer
    }

    /// Reports a failure on the status channel and closes (errors after the upgrade have no other way to kubectl).
    static func fail(_ message: String, outbound: WebSocketOutboundWriter) async {
        try? await outbound.write(.binary(frame(status, JSONWriter.bytes(failure(message)))))
        try? await outbound.close(.normalClosure, reason: nil)
    }

    /// What the client sent, in order.
    enum Input: Sendable {
        case frame(UInt8, [UInt8])
        /// The client closed its side.
        case end
        /// No window size arrived in time (terminal sessions start anyway).
        case noSize
    }

    /// The terminal size a resize message carries (`{"Width":…,"Height":…}`).
    static func size(_ payload: [UInt8]) -> (width: UInt16, height: UInt16)? {
        guard let size = try? JSONParser.parseValue(payload), let width = size["Width"].intValue, let height = size["Height"].intValue else { return nil }
        return (UInt16(clamping: width), UInt16(clamping: height))
    }

    /// Runs a session: a terminal session starts once the client's first window size arrived (kubectl sends it right
    /// away; 1 s at most), so the command sees its real size from the start. Then client input goes to the process,
    /// output (stderr merged into stdout on a terminal) to the client, then the exit status and a normal close.
    /// A client that goes away, or the agent shutting down, ends the process.
    static func serve(tty: Bool, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
                      open: @Sendable ((width: UInt16, height: UInt16)?) async throws -> any ExecSession) async throws {
        let (inputs, continuation) = AsyncStream<Input>.makeStream()
        let reader = Task {
            do {
                for try await message in inbound.messages(maxSize: 16 << 20) {
                    guard case .binary(var buffer) = message, let channel: UInt8 = buffer.readInteger() else { continue }
                    continuation.yield(.frame(channel, buffer.readBytes(length: buffer.readableBytes) ?? []))
                }
            } catch {}
            continuation.yield(.end)
            continuation.finish()
        }
        defer { reader.cancel() }
        var early: [Input] = []
        var initialSize: (width: UInt16, height: UInt16)? = nil
        if tty {
            let timer = Task {
                try? await Task.sleep(for: .seconds(1))
                continuation.yield(.noSize)
            }
            defer { timer.cancel() }
            for await input in inputs {
                if case .frame(resize, let payload) = input, let size = size(payload) {
                    initialSize = size
                    break
                }
                if case .noSize = input { break }
                early.append(input)
                if case .end = input { break }
            }
        }
        let session = try await open(initialSize)
        let exited = ExitFlag()
        await withTaskCancellationHandler {
            await pump(session, tty: tty, early: early, inputs: inputs, outbound: outbound, exited: exited)
        } onCancel: {
            // The agent is shutting down: the command ends with the session.
            if !exited.isSet { session.terminate() }
        }
    }

    static func pump(_ session: any ExecSession, tty: Bool, early: [Input], inputs: AsyncStream<Input>, outbound: WebSocketOutboundWriter,
                     exited: ExitFlag) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                func apply(_ input: Input) async -> Bool {
                    guard case .frame(let channel, let payload) = input else { return !(input.isEnd) }
                    switch channel {
                    case stdin: await session.write(payload)
                    case close where payload.first == stdin: session.closeStdin()
                    case resize: if let size = size(payload) { session.resize(width: size.width, height: size.height) }
                    default: break
                    }
                    return true
                }
                var open = true
                for input in early where open { open = await apply(input) }
                if open {
                    for await input in inputs {
                        if await !apply(input) { break }
                    }
                }
                // The client is gone (or closed its side) while the command runs: nobody reads its output any more.
                if !exited.isSet { session.terminate() }
            }
            for await chunk in session.output {
                switch chunk {
                case .stdout(let bytes): try? await outbound.write(.binary(frame(stdout, bytes)))
                case .stderr(let bytes): try? await outbound.write(.binary(frame(tty ? stdout : stderr, bytes)))
                }
            }
            let code = await session.wait()
            exited.set()
            try? await outbound.write(.binary(frame(status, JSONWriter.bytes(exitStatus(code)))))
            try? await outbound.close(.normalClosure, reason: nil)
            group.cancelAll()
        }
    }
}

extension ExecStream.Input {
    var isEnd: Bool { if case .end = self { return true } else { return false } }
}

/// Set once the exec'd command has exited (so a late client close does not signal a reused process group).
final class ExitFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
