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
        // Closing waits this long for the server's close_notify (NIOSSL's default of 5 s held every shutdown).
        tls.shutdownTimeout = .milliseconds(500)
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
    /// Cancelling the calling task closes the connection (the request is cancelled, not left open until its
    /// deadline), so components stop promptly.
    public func watch(_ path: String, onEvent: @Sendable (JSONValue) async -> Bool) async throws {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let request = try HTTPClient.Request(url: base + path, method: .GET, headers: headers)
        let (chunks, continuation) = AsyncThrowingStream<StreamingDelegate.Chunk, any Error>.makeStream()
        let task = http.execute(request: request, delegate: StreamingDelegate(continuation), deadline: .now() + .hours(1))
        defer { task.cancel() }
        try await withTaskCancellationHandler {
            var pending: [UInt8] = []
            var status: HTTPResponseStatus = .ok
            for try await chunk in chunks {
                switch chunk {
                case .head(let head):
                    status = head
                case .body(let buffer):
                    pending += buffer.readableBytesView
                    if status != .ok { continue }
                    // Every complete line, then one removal of what was read: removing each line as it is read
                    // moved the rest of a 64 KiB chunk once per event.
                    var start = 0
                    defer { pending.removeFirst(start) }
                    while let newline = pending[start...].firstIndex(of: 0x0A) {
                        let line = pending[start..<newline]
                        start = newline + 1
                        if let event = try? JSONParser.parseValue(line), await !onEvent(event) { return }
                    }
                }
            }
            if status != .ok {
                throw Kubeconfig.Failure(description: "watch \(path): HTTP \(status.code): \(String(decoding: pending.prefix(500), as: UTF8.self))")
            }
        } onCancel: {
            task.cancel()
        }
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }
}

/// Feeds a streaming response into an AsyncThrowingStream (head first, then body parts), for `watch`.
final class StreamingDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    enum Chunk: Sendable {
        case head(HTTPResponseStatus)
        case body(ByteBuffer)
    }

    let continuation: AsyncThrowingStream<Chunk, any Error>.Continuation

    init(_ continuation: AsyncThrowingStream<Chunk, any Error>.Continuation) {
        self.continuation = continuation
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        continuation.yield(.head(head.status))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        continuation.yield(.body(buffer))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        continuation.finish()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        continuation.finish(throwing: error)
    }
}
