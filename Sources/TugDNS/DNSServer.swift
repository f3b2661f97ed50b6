#if canImport(Glibc)
import Glibc
#endif
public import Logging
public import NIOCore
import NIOPosix
public import ServiceLifecycle

/// Cluster DNS on UDP and TCP at one address and port: one UDP socket per core (SO_REUSEPORT, so the kernel
/// spreads queries over the event loops) and a TCP listener for truncated answers. `bind` opens the sockets (so
/// the port is known before the kube-dns endpoints are written); `run` serves until graceful shutdown.
public final class DNSServer: Service, Sendable {
    public let resolver: DNSResolver
    public let port: Int
    let channels: [any Channel]
    let logger: Logger

    init(resolver: DNSResolver, port: Int, channels: [any Channel], logger: Logger) {
        self.resolver = resolver
        self.port = port
        self.channels = channels
        self.logger = logger
    }

    /// Opens the sockets on `host`:`port` (0: a free port, the same for UDP and TCP).
    public static func bind(host: String, port: Int, resolver: DNSResolver, logger: Logger,
                            group: MultiThreadedEventLoopGroup = .singleton) async throws -> DNSServer {
        var lastError: (any Error)?
        for _ in 0..<(port == 0 ? 10 : 1) {
            var channels: [any Channel] = []
            do {
                let first = try await udp(host: host, port: port, resolver: resolver, loop: group.next())
                channels.append(first)
                let bound = first.localAddress?.port ?? port
                for _ in 1..<max(1, System.coreCount) {
                    channels.append(try await udp(host: host, port: bound, resolver: resolver, loop: group.next()))
                }
                channels.append(try await tcp(host: host, port: bound, resolver: resolver, group: group))
                logger.info("cluster DNS listening", metadata: ["address": "\(host):\(bound)", "udpSockets": "\(channels.count - 1)"])
                return DNSServer(resolver: resolver, port: bound, channels: channels, logger: logger)
            } catch {
                lastError = error
                for channel in channels { try? await channel.close() }
            }
        }
        throw lastError ?? ChannelError.inputClosed
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes the sockets.
    public func close() async {
        for channel in channels { try? await channel.close() }
    }

    static func udp(host: String, port: Int, resolver: DNSResolver, loop: any EventLoop) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            .channelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SocketOptionName(SO_REUSEPORT)), value: 1)
            // Vector reads split the receive buffer evenly between the messages: 4 KiB each (a query with EDNS
            // options stays far below), or longer names would arrive cut off.
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 4096))
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPHandler(resolver: resolver)) }
            }
            .bind(host: host, port: port).get()
    }

    static func tcp(host: String, port: Int, resolver: DNSResolver, group: MultiThreadedEventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixedDecoder()))
                    try channel.pipeline.syncOperations.addHandler(TCPHandler(resolver: resolver))
                }
            }
            .bind(host: host, port: port).get()
    }

    final class UDPHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let resolver: DNSResolver

        init(resolver: DNSResolver) { self.resolver = resolver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let remote = envelope.remoteAddress
            switch resolver.resolve(Array(envelope.data.readableBytesView), udp: true) {
            case .response(let bytes):
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: context.channel.allocator.buffer(bytes: bytes))), promise: nil)
            case .forward(let query, let failure):
                guard let forwarder = resolver.forwarder else { return }
                let channel = context.channel
                Task {
                    let answer = await forwarder.forward(query) ?? failure
                    channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: answer)), promise: nil)
                }
            case .drop:
                break
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) { context.flush() }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A UDP socket reports ICMP errors of earlier sends here; it keeps serving.
        }
    }

    final class TCPHandler: ChannelInboundHandler {
        typealias InboundIn = [UInt8]
        typealias OutboundOut = ByteBuffer
        let resolver: DNSResolver

        init(resolver: DNSResolver) { self.resolver = resolver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch resolver.resolve(unwrapInboundIn(data), udp: false) {
            case .response(let bytes):
                context.writeAndFlush(wrapOutboundOut(tcpFrame(bytes, allocator: context.channel.allocator)), promise: nil)
            case .forward(let query, let failure):
                guard let forwarder = resolver.forwarder else { return }
                let channel = context.channel
                Task {
                    let answer = await forwarder.forward(query) ?? failure
                    channel.writeAndFlush(tcpFrame(answer, allocator: channel.allocator), promise: nil)
                }
            case .drop:
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    /// DNS over TCP: each message preceded by its length in two bytes.
    struct LengthPrefixedDecoder: ByteToMessageDecoder {
        typealias InboundOut = [UInt8]

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
                  let bytes = buffer.getBytes(at: buffer.readerIndex + 2, length: Int(length)) else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: Int(length) + 2)
            context.fireChannelRead(wrapInboundOut(bytes))
            return .continue
        }
    }
}

/// A DNS message framed for TCP: its length in two bytes, then the message.
func tcpFrame(_ bytes: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
    var buffer = allocator.buffer(capacity: bytes.count + 2)
    buffer.writeInteger(UInt16(bytes.count))
    buffer.writeBytes(bytes)
    return buffer
}
