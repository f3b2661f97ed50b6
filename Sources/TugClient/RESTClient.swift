public import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOHTTP1
import NIOSSL
public import TugAPIMachinery

/// A minimal REST client for the Kubernetes API over async-http-client (used by `tug bench` and, later, components).
public final class RESTClient: Sendable {
    public let http: HTTPClient
    let base: String
    let token: String?

    public init(kubeconfig: Kubeconfig, maxConnections: Int = 32) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = kubeconfig.caPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
        }
        if kubeconfig.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections)
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        base = kubeconfig.server.hasSuffix("/") ? String(kubeconfig.server.dropLast()) : kubeconfig.server
        token = kubeconfig.token
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: ByteBuffer
        public var json: JSONValue { (try? JSONParser.parseValue(body.readableBytesView)) ?? .null }
    }

    public func request(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, contentType: String = "application/json",
                        timeout: TimeAmount = .seconds(60), maxBody: Int = 512 * 1024 * 1024) async throws -> Response {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(body)))
        }
        let response = try await http.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: maxBody)
        return Response(status: Int(response.status.code), body: buffer)
    }

    /// Streams a watch: calls `onEvent` for every event line until it returns false or the stream ends.
    public func watch(_ path: String, onEvent: @Sendable (JSONValue) async -> Bool) async throws {
        var request = HTTPClientRequest(url: base + path)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await http.execute(request, timeout: .hours(1))
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1024 * 1024)
            throw Kubeconfig.Failure(description: "watch \(path): HTTP \(response.status.code): \(String(buffer: body).prefix(500))")
        }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending += chunk.readableBytesView
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                if let event = try? JSONParser.parseValue(line), await !onEvent(event) { return }
            }
        }
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }
}
