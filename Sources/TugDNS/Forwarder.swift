import Foundation
public import NIOCore
import NIOPosix

/// Sends queries for names outside the cluster to the host's resolvers (the `nameserver` lines of
/// /etc/resolv.conf), one after the other, each with a deadline, so a query never hangs: no answer in time is a
/// SERVFAIL.
public final class Forwarder: Sendable {
    public let upstreams: [SocketAddress]
    let timeout: TimeAmount
    let group: any EventLoopGroup

    public init(upstreams: [SocketAddress], timeout: TimeAmount = .seconds(2), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.upstreams = upstreams
        self.timeout = timeout
        self.group = group
    }

    /// The nameservers of a resolv.conf (port 53); nil when there are none.
    public static func fromResolvConf(_ text: String) -> Forwarder? {
        let addresses = text.split(separator: "\n").compactMap { line -> SocketAddress? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            return try? SocketAddress(ipAddress: String(fields[1]), port: 53)
        }
        return addresses.isEmpty ? nil : Forwarder(upstreams: addresses)
    }

    /// The first upstream answer with the query's ID, or nil if none answered in time.
    public func forward(_ query: [UInt8]) async -> [UInt8]? {
        for upstream in upstreams {
            if let answer = try? await ask(upstream, query) { return answer }
        }
        return nil
    }

    func ask(_ upstream: SocketAddress, _ query: [UInt8]) async throws -> [UInt8] {
        let loop = group.next()
        let promise = loop.makePromise(of: [UInt8].self)
        let id = query.prefix(2)
        let channel = try await DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReplyHandler(promise: promise, id: Array(id))) }
            }
            .bind(host: upstream.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
        let deadline = loop.scheduleTask(in: timeout) { promise.fail(ChannelError.connectTimeout(self.timeout)) }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: upstream, data: ByteBuffer(bytes: query))).get()
        return try await promise.futureResult.get()
    }

    final class ReplyHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let promise: EventLoopPromise<[UInt8]>
        let id: [UInt8]

        init(promise: EventLoopPromise<[UInt8]>, id: [UInt8]) {
            self.promise = promise
            self.id = id
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).data.readableBytesView)
            if bytes.prefix(2).elementsEqual(id) { promise.succeed(bytes) }
        }
    }
}
