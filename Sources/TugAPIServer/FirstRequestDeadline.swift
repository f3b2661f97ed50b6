import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import TugAPIMachinery

/// A connection must bring its first request within a deadline (TLS handshake included), and one that has not yet
/// sent a request is closed when the server quiesces.
///
/// Hummingbird's HTTP/1 connection handling (its idle timeout and its graceful-shutdown handling) is installed only
/// once the first request head is parsed, since the WebSocket upgrade decision comes first. Before that a
/// connection that connects and sends nothing, or trickles a header (slowloris), holds a descriptor indefinitely and
/// kept the server's graceful shutdown waiting for it (in-process clients left such connections as they stopped).
/// kube-apiserver bounds the same with a header read timeout.
///
/// A first request that is not HTTP (an unknown method, a malformed request line or header) is answered 400 with a
/// Status and the connection closed, as kube-apiserver's HTTP server does: without that nothing answered it and the
/// connection stayed open until the deadline.
struct FirstRequestDeadline<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let timeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Last in the pipeline as set up so far: after TLS and the upgrade handler, which forwards nothing until
            // it has a whole request head; the HTTP handlers added for that request come after this one.
            try channel.pipeline.syncOperations.addHandler(FirstRequestDeadlineHandler(timeout: timeout))
            return value
        }
    }

    /// A connection that closed before its first request is not an error (`ConnectionLogHandler`).
    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: ConnectionLogHandler.wrapping(logger))
    }
}

final class FirstRequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var satisfied = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    /// The first request has arrived: Hummingbird's own connection handling takes over from here.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
        guard !satisfied else { return }
        satisfied = true
        deadline?.cancel()
        deadline = nil
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !satisfied, let parse = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        satisfied = true
        deadline?.cancel()
        deadline = nil
        let status = StatusError.badRequest("the request is not valid HTTP/1.1: \(parse)")
        var body = context.channel.allocator.buffer(capacity: 256)
        body.writeBytes(JSONWriter.bytes(status.status))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, !satisfied {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
