import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOSSL
import Synchronization
import TugAPIMachinery

/// The API server's way to a node agent (pods/log; exec and attach relay through `StreamUpgrade`): HTTPS to the
/// node's InternalIP and `daemonEndpoints.kubeletEndpoint.Port`, presenting the API server's own client
/// certificate (`kube-apiserver-kubelet-client`, which the agent authorizes) and accepting only a serving
/// certificate from the cluster CA for that address, as kube-apiserver with `--kubelet-certificate-authority`.
/// No secret goes to an address taken from a Node object.
final class NodeProxy: Sendable {
    /// Created on first use (an API server that never streams from a node holds no client).
    private let client = Mutex<HTTPClient?>(nil)
    let tls: TLSConfiguration
    let streams: OpenStreams

    init(credential: ClusterCA.Issued?, caPEM: String, streams: OpenStreams) {
        // Without a usable CA (in-process tests) nothing verifies, so no agent is reached.
        tls = (try? Self.tlsConfiguration(credential: credential, caPEM: caPEM, verifyHostname: true)) ?? TLSConfiguration.makeClientConfiguration()
        self.streams = streams
    }

    /// Client TLS to agents: the API server's certificate, the cluster CA as the only trust root.
    static func tlsConfiguration(credential: ClusterCA.Issued?, caPEM: String, verifyHostname: Bool) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        tls.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
        if let credential {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(credential.certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(credential.keyPEM.utf8), format: .pem))
        }
        tls.shutdownTimeout = .milliseconds(500)
        return tls
    }

    var http: HTTPClient {
        client.withLock { client in
            if let client { return client }
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
        let request = HTTPClientRequest(url: try Self.endpoint(of: node) + path + (query.isEmpty ? "" : "?" + query))
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
