import Logging
import NIOCore
import NIOPosix
import Testing
@testable import TugDNS
import TugDNSWire

/// The server over real UDP on loopback: zone answers, truncation, malformed input, and forwarding to an upstream
/// (another DNSServer standing in for the host's resolver) that answers, or does not.
@Suite struct DNSServerTests {
    static func query(_ name: String, _ type: DNSMessage.RecordType, id: UInt16 = 0x1234, edns: UInt16? = nil) -> [UInt8] {
        var message = DNSMessage(id: id, question: .init(name: name, type: type.rawValue))
        message.recursionDesired = true
        message.ednsPayloadSize = edns
        return message.encoded()
    }

    /// A headless Service `web.shop` with `endpoints` ready addresses.
    static func zone(endpoints: Int) -> ClusterZone {
        ClusterZone(services: [["metadata": ["name": "web", "namespace": "shop"], "spec": ["clusterIP": "None", "ports": [["name": "http", "port": 80]]]]],
                    slices: [["metadata": ["name": "web-1", "namespace": "shop", "labels": ["kubernetes.io/service-name": "web"]], "addressType": "IPv4",
                              "ports": [["name": "http", "port": 80]],
                              "endpoints": .array((0..<endpoints).map { ["addresses": [.string("10.42.1.\($0)")]] })]])
    }

    @Test func answersTruncatesAndRejectsGarbage() async throws {
        let resolver = DNSResolver(forwarder: nil)
        resolver.update(Self.zone(endpoints: 60))
        let server = try await DNSServer.bind(host: "127.0.0.1", port: 0, resolver: resolver, logger: Logger(label: "test"))
        defer { Task { for channel in server.channels { try? await channel.close() } } }
        let client = Forwarder(upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: server.port)])

        let reply = try DNSMessage(parsing: try #require(await client.forward(Self.query("web.shop.svc.cluster.local", .a, edns: 4096))))
        #expect(reply.id == 0x1234 && reply.isResponse && reply.authoritative && reply.answers.count == 60 && !reply.truncated)
        // 60 addresses do not fit 512 bytes: without EDNS the answer is truncated, so the client retries over TCP.
        let small = try DNSMessage(parsing: try #require(await client.forward(Self.query("web.shop.svc.cluster.local", .a))))
        #expect(small.truncated && small.answers.isEmpty)
        // A long name (over the 64 bytes a vector-read slice would have with NIO's default buffer).
        let long = "a-name-long-enough-to-overflow.a-small-receive-slice-of-the-buffer.shop.svc.cluster.local"
        let missing = try DNSMessage(parsing: try #require(await client.forward(Self.query(long, .a))))
        #expect(missing.question?.name == long)
        #expect(missing.responseCode == .nameError && missing.authority.count == 1)
        // With no upstream, an outside name is NXDOMAIN at once.
        let outside = try DNSMessage(parsing: try #require(await client.forward(Self.query("example.com", .a))))
        #expect(outside.responseCode == .nameError)
        let garbage = try #require(await client.forward([0x12, 0x34, 0xFF]))
        #expect(try DNSMessage(parsing: garbage).responseCode == .formatError)
    }

    @Test func forwardsOutsideNamesAndFailsFastWhenUpstreamIsSilent() async throws {
        // The "host resolver": a second server whose zone is example.com.
        let upstreamResolver = DNSResolver(forwarder: nil)
        upstreamResolver.update(ClusterZone(domain: "example.com", services: [
            ["metadata": ["name": "www", "namespace": "x"], "spec": ["clusterIP": "192.0.2.80"]],
        ], slices: []))
        let upstream = try await DNSServer.bind(host: "127.0.0.1", port: 0, resolver: upstreamResolver, logger: Logger(label: "test"))
        // A socket that never answers: a bound UDP port with no reader.
        let silent = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let forwarder = Forwarder(upstreams: [silent.localAddress!, try SocketAddress(ipAddress: "127.0.0.1", port: upstream.port)],
                                  timeout: .milliseconds(300))
        let resolver = DNSResolver(forwarder: forwarder)
        resolver.update(ClusterZone())
        let server = try await DNSServer.bind(host: "127.0.0.1", port: 0, resolver: resolver, logger: Logger(label: "test"))
        let client = Forwarder(upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: server.port)], timeout: .seconds(5))

        let answer = try DNSMessage(parsing: try #require(await client.forward(Self.query("www.x.svc.example.com", .a))))
        #expect(answer.answers.map(\.data) == [.a([192, 0, 2, 80])])

        let deadOnly = DNSResolver(forwarder: Forwarder(upstreams: [silent.localAddress!], timeout: .milliseconds(200)))
        deadOnly.update(ClusterZone())
        let lonely = try await DNSServer.bind(host: "127.0.0.1", port: 0, resolver: deadOnly, logger: Logger(label: "test"))
        let failed = try DNSMessage(parsing: try #require(await Forwarder(upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: lonely.port)],
                                                                             timeout: .seconds(5)).forward(Self.query("example.org", .a))))
        #expect(failed.responseCode == .serverFailure)
        for channel in upstream.channels + server.channels + lonely.channels + [silent] { try await channel.close() }
    }
}
