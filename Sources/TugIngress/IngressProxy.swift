import AsyncHTTPClient
import HTTPTypes
public import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// The data path: each request is matched against the current routes and relayed, streamed both ways, to one of
/// the backend's endpoints over a pooled keep-alive connection (AsyncHTTPClient), round-robin. No route is a 404,
/// a backend without ready endpoints a 503, an endpoint that cannot be reached a 502 — each with a short text body.
public final class IngressProxy: HTTPResponder, Sendable {
    public typealias Context = IngressRequestContext

    let routes: RouteTable
    let client: HTTPClient
    let next = Atomic<Int>(0)
    let scheme: String

    init(routes: RouteTable, client: HTTPClient, scheme: String) {
        self.routes = routes
        self.client = client
        self.scheme = scheme
    }

    /// Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                                        "te", "trailer", "transfer-encoding", "upgrade"]

    public func respond(to request: Request, context: IngressRequestContext) async throws -> Response {
        let host = request.head.authority ?? ""
        guard let backend = routes.current.route(host: host, path: request.uri.path) else {
            return Self.text(.notFound, "404 Not Found: no Ingress rule for \(IngressRoutes.hostName(host))\(request.uri.path)\n")
        }
        guard !backend.endpoints.isEmpty else {
            return Self.text(.serviceUnavailable, "503 Service Unavailable: \(backend.namespace)/\(backend.service) has no ready endpoints\n")
        }
        let endpoint = backend.endpoints[next.wrappingAdd(1, ordering: .relaxed).oldValue % backend.endpoints.count]
        var outbound = HTTPClientRequest(url: "http://\(endpoint)\(request.uri.description)")
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        // Content-Length goes with the body (AsyncHTTPClient writes it from the length given).
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) && field.name != .contentLength {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        let forwardedFor = context.remoteAddress?.ipAddress
        if let forwardedFor {
            outbound.headers.replaceOrAdd(name: "X-Forwarded-For", value: (request.headers[.init("X-Forwarded-For")!].map { "\($0), " } ?? "") + forwardedFor)
            outbound.headers.replaceOrAdd(name: "X-Real-IP", value: forwardedFor)
        }
        outbound.headers.replaceOrAdd(name: "X-Forwarded-Host", value: host)
        outbound.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: scheme)
        if request.method != .get, request.method != .head {
            let length = request.headers[.contentLength].flatMap { Int64($0) }
            outbound.body = .stream(request.body, length: length.map { .known($0) } ?? .unknown)
        }
        let upstream: HTTPClientResponse
        do {
            upstream = try await client.execute(outbound, timeout: .seconds(60))
        } catch {
            return Self.text(.badGateway, "502 Bad Gateway: \(backend.namespace)/\(backend.service) at \(endpoint): \(error)\n")
        }
        var fields = HTTPFields()
        for header in upstream.headers where !Self.hopByHop.contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(status: .init(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase), headers: fields,
                        body: ResponseBody(asyncSequence: upstream.body))
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}

/// The current routes, swapped whole by the controller and read by every request.
final class RouteTable: Sendable {
    private let routes = Mutex(IngressRoutes())

    var current: IngressRoutes { routes.withLock { $0 } }

    func replace(_ new: IngressRoutes) { routes.withLock { $0 = new } }
}

/// A request's context with the client's address (for X-Forwarded-For).
public struct IngressRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
