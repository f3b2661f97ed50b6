import HTTPTypes
public import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
public import TugClient

/// Requests to this process's own API server, handed to its request handler directly: no TLS, no HTTP parsing, no
/// socket and no connection pool (the pool of HTTPS loopback clients timed out under load,
/// getConnectionFromPoolTimeout). Everything else is as over HTTPS: the bearer token authenticates the caller, API
/// Priority and Fairness classifies and queues the request, bodies are the same JSON bytes, and the same metrics
/// are recorded.
public struct InProcessTransport: APITransport {
    let server: APIServer
    let logger: Logger

    public init(server: APIServer) {
        self.server = server
        self.logger = Logger(label: "tug.apiserver.inprocess")
    }

    /// `timeout` is not applied: nothing here waits on a network, and a request that queues does so in flow
    /// control, whose own queue timeout answers 429.
    public func execute(_ request: APIRequest, timeout: Duration, maxBody: Int) async throws -> RESTClient.Response {
        let response = await server.respond(to: try Self.request(request), context: APIRequestContext(logger: logger))
        let body = CollectedBody(limit: maxBody)
        try await response.body.write(body.writer)
        return RESTClient.Response(status: Int(response.status.code), body: body.bytes)
    }

    public func stream(_ request: APIRequest, onPart: (StreamPart) async throws -> Bool) async throws {
        let response = await server.respond(to: try Self.request(request), context: APIRequestContext(logger: logger))
        guard try await onPart(.head(status: Int(response.status.code))) else { return }
        try await withoutActuallyEscaping(onPart) { onPart in
            do {
                try await response.body.write(StreamWriter(onPart: onPart))
            } catch is StreamWriter.Stopped {
                return
            }
        }
    }

    /// Nothing to release: the server's own shutdown ends open streams.
    public func shutdown() async throws {}

    static func request(_ request: APIRequest) throws(InProcessTransportError) -> Request {
        var fields = HTTPFields()
        for (name, value) in request.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        guard let method = HTTPRequest.Method(request.method.rawValue) else { throw .invalidMethod(request.method.rawValue) }
        let head = HTTPRequest(method: method, scheme: "https", authority: "in-process", path: request.path, headerFields: fields)
        return Request(head: head, body: RequestBody(buffer: request.body ?? ByteBuffer()))
    }
}

/// A whole response body, collected up to a limit (the writer is consumed by the body, the buffer stays with the
/// caller).
final class CollectedBody {
    let limit: Int
    var bytes = ByteBuffer()

    init(limit: Int) { self.limit = limit }

    var writer: Writer { Writer(body: self) }


    struct Writer: ResponseBodyWriter {
        let body: CollectedBody

        mutating func write(_ part: ByteBuffer) async throws {
            guard body.bytes.readableBytes + part.readableBytes <= body.limit else {
                throw InProcessTransportError.bodyTooLarge(limit: body.limit)
            }
            var part = part
            body.bytes.writeBuffer(&part)
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// Hands each part of a streamed body to the caller; stops the body when the caller wants no more.
struct StreamWriter: ResponseBodyWriter {
    let onPart: (StreamPart) async throws -> Bool

    struct Stopped: Error {}

    mutating func write(_ part: ByteBuffer) async throws {
        guard try await onPart(.body(part)) else { throw Stopped() }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

public enum InProcessTransportError: Error, CustomStringConvertible {
    case bodyTooLarge(limit: Int)
    case invalidMethod(String)

    public var description: String {
        switch self {
        case .bodyTooLarge(let limit): "the response body is larger than the \(limit) bytes the caller accepts"
        case .invalidMethod(let method): "\"\(method)\" is not an HTTP method"
        }
    }
}
