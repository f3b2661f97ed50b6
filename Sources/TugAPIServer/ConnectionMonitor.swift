import NIOCore
import Synchronization

/// Tells a long-lived response that its client went away, at once: the server allows half-closure, so a client's
/// FIN only ends the connection's input, and a response waiting for its next event would otherwise hold the socket
/// in CLOSE-WAIT until an event that may never come.
///
/// Added at the end of the connection's pipeline for the life of one response and removed afterwards (the
/// connection may carry further requests).
final class ConnectionMonitor: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private let onClose: @Sendable () -> Void
    private let fired = Atomic<Bool>(false)

    private init(onClose: @escaping @Sendable () -> Void) {
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fire()
        context.fireChannelInactive()
    }

    private func fire() {
        if !fired.exchange(true, ordering: .acquiringAndReleasing) { onClose() }
    }

    /// Watches `channel` until the returned removal is called; `onClose` runs once, on the channel's event loop,
    /// when the client closes its side or the connection drops (at once if it already has).
    static func watch(_ channel: any Channel, onClose: @escaping @Sendable () -> Void) async -> @Sendable () -> Void {
        let monitor = ConnectionMonitor(onClose: onClose)
        do {
            try await channel.pipeline.addHandler(monitor).get()
        } catch {
            // The channel is already closed: its pipeline takes no handlers.
            monitor.fire()
            return {}
        }
        if !channel.isActive { monitor.fire() }
        return { channel.pipeline.removeHandler(monitor, promise: nil) }
    }
}
