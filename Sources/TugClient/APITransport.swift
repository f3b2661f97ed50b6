public import NIOCore
public import NIOHTTP1

/// How a `RESTClient` reaches an API server: over HTTPS (`HTTPTransport`, for any server), or by calling the
/// server's request handler in the same process (tug server's own controllers and scheduler). Both carry the same
/// requests and bytes: authentication, flow control, admission and encoding are the server's, either way.
public protocol APITransport: Sendable {
    /// One request; its whole response, refused beyond `maxBody` bytes of body.
    func execute(_ request: APIRequest, timeout: Duration, maxBody: Int) async throws -> RESTClient.Response

    /// A streamed response: its status first, then each part of the body as it comes, until `onPart` returns false
    /// or the body ends. Cancelling the calling task ends the stream (and the request with it).
    func stream(_ request: APIRequest, onPart: (StreamPart) async throws -> Bool) async throws

    /// Releases what the transport holds (connections). Requests after this fail.
    func shutdown() async throws
}

/// One API request as a transport sends it.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    /// Path and query, e.g. `/api/v1/pods?watch=1`.
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer?

    public init(method: HTTPMethod, path: String, headers: [(name: String, value: String)] = [], body: ByteBuffer? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// A part of a streamed response.
public enum StreamPart: Sendable {
    case head(status: Int)
    case body(ByteBuffer)
}
