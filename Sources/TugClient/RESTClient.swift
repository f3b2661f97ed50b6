import Foundation
public import NIOCore
import NIOHTTP1
public import TugAPIMachinery

/// A minimal REST client for the Kubernetes API, over HTTPS or in process (see `APITransport`).
public final class RESTClient: Sendable {
    public let transport: any APITransport
    let token: String?
    /// Bounds the requests in flight (not watches), when the transport does not (see `init(transport:token:maxInFlight:)`).
    let limit: InFlightLimit?

    /// A client for the server in `kubeconfig`, over HTTPS with a pool of up to `maxConnections` connections.
    public convenience init(kubeconfig: Kubeconfig, maxConnections: Int = 32) throws {
        self.init(transport: try HTTPTransport(kubeconfig: kubeconfig, maxConnections: maxConnections), token: kubeconfig.token)
    }

    /// A client sending `token` as its bearer token over `transport`, with at most `maxInFlight` requests at once
    /// (watches aside; nil: no bound of its own, as an HTTPS client's pool is one).
    public init(transport: any APITransport, token: String?, maxInFlight: Int? = nil) {
        self.transport = transport
        self.token = token
        self.limit = maxInFlight.map(InFlightLimit.init)
    }

    /// A client on `other`'s transport and within its bound of requests in flight, sending `token` instead:
    /// components of one process that share one budget of requests, each under its own identity.
    public init(sharing other: RESTClient, token: String?) {
        self.transport = other.transport
        self.token = token
        self.limit = other.limit
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: ByteBuffer
        public var json: JSONValue { json(interning: nil) }

        public init(status: Int, body: ByteBuffer) {
            self.status = status
            self.body = body
        }

        /// The body decoded, sharing the strings `interner` holds (for objects a cache keeps).
        public func json(interning interner: JSONInterner?) -> JSONValue {
            (try? JSONParser.parseValue(body.readableBytesView, interner: interner)) ?? .null
        }
    }

    var authorization: [(name: String, value: String)] {
        token.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    public func request(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, contentType: String = "application/json",
                        timeout: Duration = .seconds(60), maxBody: Int = 512 * 1024 * 1024) async throws -> Response {
        var request = APIRequest(method: method, path: path, headers: authorization + [("Accept", "application/json")])
        if let body {
            request.headers.append(("Content-Type", contentType))
            request.body = ByteBuffer(bytes: JSONWriter.bytes(body))
        }
        guard let limit else { return try await transport.execute(request, timeout: timeout, maxBody: maxBody) }
        return try await limit.run { try await transport.execute(request, timeout: timeout, maxBody: maxBody) }
    }

    /// Streams a watch: calls `onEvent` for every event until it returns false or the stream ends.
    /// Cancelling the calling task ends the request, so components stop promptly.
    ///
    /// With an `interner`, the events' strings it already holds are shared rather than created.
    public func watch(_ path: String, interner: JSONInterner? = nil, onEvent: @Sendable (JSONValue) async -> Bool) async throws {
        try await watchLines(path) { line in
            guard let event = try? JSONParser.parseValue(line, interner: interner) else { return true }
            return await onEvent(event)
        }
    }

    /// Streams a watch as its raw event lines (the JSON of each event, without its newline), for a caller that
    /// counts or forwards events without decoding them.
    public func watchLines(_ path: String, onLine: (ArraySlice<UInt8>) async -> Bool) async throws {
        var pending: [UInt8] = []
        var status = 200
        try await transport.stream(APIRequest(method: .GET, path: path, headers: authorization)) { part in
            switch part {
            case .head(let code):
                status = code
                return true
            case .body(let buffer):
                pending += buffer.readableBytesView
                if status != 200 { return true }
                // Every complete line, then one removal of what was read: removing each line as it is read
                // moved the rest of a 64 KiB chunk once per event.
                var start = 0
                defer { pending.removeFirst(start) }
                while let newline = pending[start...].firstIndex(of: 0x0A) {
                    let line = pending[start..<newline]
                    start = newline + 1
                    if await !onLine(line) { return false }
                }
                return true
            }
        }
        if status != 200 {
            throw Kubeconfig.Failure(description: "watch \(path): HTTP \(status): \(String(decoding: pending.prefix(500), as: UTF8.self))")
        }
    }

    public func shutdown() async throws {
        try await transport.shutdown()
    }
}
