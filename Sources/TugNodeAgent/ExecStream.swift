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

    /// Pumps a session: client input to the process, output (stderr merged into stdout on a terminal) to the client,
    /// then the exit status and a normal close. A client that goes away ends the process.
    static func serve(_ session: any ExecSession, tty: Bool, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let exited = ExitFlag()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        guard case .binary(var buffer) = message, let channel: UInt8 = buffer.readInteger() else { continue }
                        let payload = buffer.readBytes(length: buffer.readableBytes) ?? []
                        switch channel {
                        case stdin: await session.write(payload)
                        case close where payload.first == stdin: session.closeStdin()
                        case resize:
                            if let size = try? JSONParser.parseValue(payload), let width = size["Width"].intValue, let height = size["Height"].intValue {
                                session.resize(width: UInt16(clamping: width), height: UInt16(clamping: height))
                            }
                        default: break
                        }
                    }
                } catch {}
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

/// Set once the exec'd command has exited (so a late client close does not signal a reused process group).
final class ExitFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
