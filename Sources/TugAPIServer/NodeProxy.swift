import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOSSL
import Synchronization
import TugAPIMachinery

/// The API server's way to a node agent (pods/log now; exec, attach and port-forward next): HTTPS to the node's
/// InternalIP and `daemonEndpoints.kubeletEndpoint.Port`, authenticated with the node token. Like kube-apiserver
/// without `--kubelet-certificate-authority`, it does not verify the agent's self-signed certificate.
final class NodeProxy: Sendable {
    /// Created on first use (an API server that never streams from a node holds no client).
    private let client = Mutex<HTTPClient?>(nil)
    let token: String
    let streams: OpenStreams

    init(token: String, streams: OpenStreams) {
        self.token = token
        self.streams = streams
    }

    var http: HTTPClient {
        client.withLock { client in
            if let client { return client }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            configuration.httpVersion = .http1Only
            let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            client = created
            return created
        }
    }

    /// `https://<InternalIP>:<port>` of a Node object.
    static func endpoint(of node: JSONValue) throws(StatusError) -> String {
        let addresses = node["status"]["addresses"].arrayValue ?? []
        guard let address = (addresses.first { $0["type"].stringValue == "InternalIP" } ?? addresses.first)?["address"].stringValue,
              let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"].intValue, port > 0 else {
            throw .serviceUnavailable("node \"\(node["metadata"]["name"].stringValue ?? "")\" has no agent endpoint (is its node agent running?)")
        }
        return address.contains(":") ? "https://[\(address)]:\(port)" : "https://\(address):\(port)"
    }

    /// Forwards a GET and streams the agent's answer back: its body as it arrives on success, its Status otherwise.
    func get(node: JSONValue, path: String, query: String) async throws -> Response {
        var request = HTTPClientRequest(url: try Self.endpoint(of: node) + path + (query.isEmpty ? "" : "?" + query))
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .hours(24))
        } catch {
            throw StatusError.serviceUnavailable("cannot reach the node agent of node \"\(node["metadata"]["name"].stringValue ?? "")\": \(error)")
        }
        let contentType = response.headers.first(name: "Content-Type") ?? "text/plain"
        if response.status != .ok {
            let body = try await response.body.collect(upTo: 1024 * 1024)
            return Response(status: .init(code: Int(response.status.code)), headers: [.contentType: contentType], body: .init(byteBuffer: body))
        }
        let streams = self.streams
        let body = ResponseBody { writer in
            // A followed log ends when the agent ends it, the client goes, or this server shuts down.
            let bodyStream = response.body
            let chunks = streams.pipe { (continuation: AsyncStream<ByteBuffer>.Continuation) in
                do { for try await chunk in bodyStream { continuation.yield(chunk) } } catch {}
            }
            for await chunk in chunks { try await writer.write(chunk) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: contentType], body: body)
    }

    func shutdown() async {
        let existing = client.withLock { client in
            defer { client = nil }
            return client
        }
        try? await existing?.shutdown()
    }
}
