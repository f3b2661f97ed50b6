import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import TugAPIMachinery
import TugRuntime

/// The agent's HTTPS endpoint (the kubelet's port 10250): container logs, exec and attach streams. It serves with
/// the node's certificate from the cluster CA and lets in only callers `EndpointAccess` authenticates and
/// authorizes (the API server, by its client certificate). Errors are Kubernetes `Status` objects, so the API
/// server can pass them to kubectl unchanged.
struct AgentEndpoint: Sendable {
    let port: Int
    let serving: NodeCertificates.Pair
    let caPEM: String
    let access: EndpointAccess
    let runtime: any ContainerRuntime
    let podsRoot: String
    let workers: PodWorkers
    let logger: Logger
    /// Followed logs and exec/attach sessions, ended together when the agent shuts down.
    let streams = OpenStreams()

    func run() async throws {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(serving.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serving.keyPEM.utf8), format: .pem)))
        tls.applicationProtocols = ["http/1.1"]
        // A client certificate is optional (a bearer token is the other way in); one presented must chain to the CA.
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        // Do not wait 5 s (the default) for a close_notify from clients that already went away.
        tls.shutdownTimeout = .milliseconds(500)
        let responder = CallbackResponder<AgentRequestContext> { request, context in
            await self.respond(request, channel: context.channel)
        }
        let server: HTTPServerBuilder = .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 1 << 20))) { head, channel, _ in
            await self.upgrade(head, channel: channel)
        }
        let app = Application(responder: responder, server: try .tls(server, tlsConfiguration: tls),
                              configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: nil), logger: logger)
        try await app.runService()
    }

    /// `/exec/<namespace>/<pod>/<container>?command=…&stdin=…&tty=…` and `/attach/…?stdin=…&tty=…` from the API server
    /// become WebSockets speaking the remote-command protocol; anything else goes on to the HTTP handler (which
    /// answers errors as Status).
    func upgrade(_ head: HTTPRequest, channel: any Channel) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let uri = URI(head.path ?? "")
        guard await access.check(method: head.method, path: uri.path, authorization: head.headerFields[.authorization], channel: channel) == nil else {
            return .dontUpgrade
        }
        let parts = uri.path.split(separator: "/").map(String.init)
        guard parts.count == 4, parts[0] == "exec" || parts[0] == "attach" else { return .dontUpgrade }
        let attach = parts[0] == "attach"
        let query = uri.queryParameters
        let command: [String] = query.getAll("command").map { String($0) }
        let tty = query.get("tty") == "true" || query.get("tty") == "1"
        let stdin = query.get("stdin") == "true" || query.get("stdin") == "1"
        let streams = self.streams
        return .upgrade([.secWebSocketProtocol: "v5.channel.k8s.io"]) { inbound, outbound, _ in
            _ = try? await streams.run { await self.session(attach: attach, parts: parts, command: command, tty: tty, stdin: stdin,
                                                          inbound: inbound, outbound: outbound) }
        }
    }

    /// One exec or attach session on an upgraded connection; failures before it starts go out on the status channel.
    func session(attach: Bool, parts: [String], command: [String], tty: Bool, stdin: Bool,
                 inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        do {
            let (target, _) = try await logTarget(namespace: parts[1], pod: parts[2], container: parts[3], previous: false)
            guard target.state == .running else {
                throw EndpointError(code: 400, reason: "BadRequest", message: "container \(parts[3]) is not running")
            }
            let runtime = self.runtime
            try await ExecStream.serve(tty: tty, inbound: inbound, outbound: outbound) { size in
                if attach {
                    let session = try await runtime.openAttach(target.id)
                    if let size { session.resize(width: size.width, height: size.height) }
                    return session
                }
                return try await runtime.openExec(target.id, command: command, tty: tty, stdin: stdin, size: size)
            }
        } catch let error as EndpointError {
            await ExecStream.fail(error.message, outbound: outbound)
        } catch {
            await ExecStream.fail("\(error)", outbound: outbound)
        }
    }

    func respond(_ request: Request, channel: any Channel) async -> Response {
        if let refusal = await access.check(method: request.method, path: request.uri.path, authorization: request.headers[.authorization], channel: channel) {
            return Self.status(refusal.code, refusal.reason, refusal.message)
        }
        let parts = request.uri.path.split(separator: "/").map(String.init)
        let query = Dictionary((request.uri.query ?? "").split(separator: "&").map { item -> (String, String) in
            let pair = item.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return (pair[0], pair.count > 1 ? pair[1] : "")
        }, uniquingKeysWith: { _, last in last })
        do {
            switch (request.method, parts.first) {
            case (.get, "containerLogs") where parts.count == 4:
                return try await logs(namespace: parts[1], pod: parts[2], container: parts[3], query: query)
            case (.get, "healthz"):
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
            default:
                return Self.status(404, "NotFound", "the agent has no endpoint \(request.uri.path)")
            }
        } catch let error as EndpointError {
            return Self.status(error.code, error.reason, error.message)
        } catch {
            return Self.status(500, "InternalError", "\(error)")
        }
    }

    struct EndpointError: Error {
        var code: Int
        var reason: String
        var message: String
    }

    static func status(_ code: Int, _ reason: String, _ message: String) -> Response {
        let body: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message),
                               "reason": .string(reason), "code": .int(Int64(code))]
        return Response(status: .init(code: code), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(body))))
    }

    /// The container whose log to read: the latest attempt, or with `previous` the one before it.
    func logTarget(namespace: String, pod name: String, container: String, previous: Bool) async throws -> (ContainerInfo, uid: String) {
        var pod: JSONValue? = nil
        for uid in await workers.knownUIDs() {
            if let candidate = await workers.pod(uid: uid), candidate["metadata"]["namespace"].stringValue == namespace, candidate["metadata"]["name"].stringValue == name {
                pod = candidate
            }
        }
        guard let pod, let uid = pod["metadata"]["uid"].stringValue else {
            throw EndpointError(code: 404, reason: "NotFound", message: "pod \"\(name)\" not found on this node")
        }
        let attempts = try await runtime.containers().filter { $0.podUID == uid && $0.name == container }
            .sorted { ($0.attempt, $0.createdAt) > ($1.attempt, $1.createdAt) }
        if previous {
            guard attempts.count > 1 else {
                throw EndpointError(code: 400, reason: "BadRequest", message: "previous terminated container \"\(container)\" in pod \"\(name)\" not found")
            }
            return (attempts[1], uid)
        }
        guard let latest = attempts.first else {
            let waiting = ((pod["status"]["containerStatuses"].arrayValue ?? []) + (pod["status"]["initContainerStatuses"].arrayValue ?? []))
                .first { $0["name"].stringValue == container }?["state"]["waiting"]["reason"].stringValue ?? "ContainerCreating"
            throw EndpointError(code: 400, reason: "BadRequest", message: "container \"\(container)\" in pod \"\(name)\" is waiting to start: \(waiting)")
        }
        return (latest, uid)
    }

    func logs(namespace: String, pod: String, container: String, query: [String: String]) async throws -> Response {
        let previous = query["previous"] == "true" || query["previous"] == "1"
        let (target, _) = try await logTarget(namespace: namespace, pod: pod, container: container, previous: previous)
        var logOptions = CRILogOptions(query: query)
        if previous { logOptions.follow = false }
        let options = logOptions
        let runtime = self.runtime
        let streams = self.streams
        let body = ResponseBody { writer in
            let chunks = streams.pipe { (continuation: AsyncStream<[UInt8]>.Continuation) in
                try? await LogStreamer(path: target.logPath, options: options) {
                    guard let current = try? await runtime.containers().first(where: { $0.id == target.id }) else { return false }
                    return current.state == .running
                }.stream { bytes in continuation.yield(bytes) }
            }
            for await bytes in chunks { try await writer.write(ByteBuffer(bytes: bytes)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }
}
