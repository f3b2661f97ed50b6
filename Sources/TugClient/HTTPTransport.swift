public import AsyncHTTPClient
import Foundation
import TugAPIMachinery
import NIOCore
import NIOHTTP1
import NIOSSL

/// Requests over HTTPS with async-http-client: one connection pool per transport.
public final class HTTPTransport: APITransport {
    public let http: HTTPClient
    let base: String

    public init(kubeconfig: Kubeconfig, maxConnections: Int = 32) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = kubeconfig.caPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
        }
        if kubeconfig.insecureSkipTLSVerify { tls.certificateVerification = .none }
        if let certificate = kubeconfig.clientCertificatePEM, let key = kubeconfig.clientKeyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        }
        // Closing waits this long for the server's close_notify (NIOSSL's default of 5 s held every shutdown).
        tls.shutdownTimeout = .milliseconds(500)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections)
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        base = kubeconfig.server.hasSuffix("/") ? String(kubeconfig.server.dropLast()) : kubeconfig.server
    }

    public func execute(_ request: APIRequest, timeout: Duration, maxBody: Int) async throws -> RESTClient.Response {
        var outgoing = HTTPClientRequest(url: base + request.path)
        outgoing.method = request.method
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(body) }
        let response = try await http.execute(outgoing, timeout: .nanoseconds(timeout.nanoseconds))
        let buffer = try await response.body.collect(upTo: maxBody)
        return RESTClient.Response(status: Int(response.status.code), body: buffer)
    }

    /// Cancelling the calling task closes the connection (the request is cancelled, not left open until its
    /// deadline), so components stop promptly.
    public func stream(_ request: APIRequest, onPart: (StreamPart) async throws -> Bool) async throws {
        var headers = HTTPHeaders()
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        let outgoing = try HTTPClient.Request(url: base + request.path, method: request.method, headers: headers,
                                              body: request.body.map { .byteBuffer($0) })
        let (parts, continuation) = AsyncThrowingStream<StreamPart, any Error>.makeStream()
        let task = http.execute(request: outgoing, delegate: StreamingDelegate(continuation), deadline: .now() + .hours(1))
        defer { task.cancel() }
        try await withTaskCancellationHandler {
            for try await part in parts where try await !onPart(part) { return }
        } onCancel: {
            task.cancel()
        }
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }
}

/// Feeds a streaming response into an AsyncThrowingStream (head first, then body parts), for `stream`.
final class StreamingDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    let continuation: AsyncThrowingStream<StreamPart, any Error>.Continuation

    init(_ continuation: AsyncThrowingStream<StreamPart, any Error>.Continuation) {
        self.continuation = continuation
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        continuation.yield(.head(status: Int(head.status.code)))
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
