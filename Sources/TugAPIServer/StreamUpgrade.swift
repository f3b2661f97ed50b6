import Foundation
import HTTPTypes
import HummingbirdCore
import HummingbirdWebSocket
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import TugAPIMachinery
import TugAuth

extension APIServer {
    /// The remote-command subprotocols, newest first; kubectl offers v5 only, the Python client v5 and v4.
    static let streamProtocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]

    /// Decides whether a request upgrades to a WebSocket: an authenticated `pods/exec` or `pods/attach` for a pod,
    /// container and node that exist, offering a subprotocol we speak. Anything else goes on to the HTTP handler,
    /// which answers with the right Status.
    func streamUpgrade(_ head: HTTPRequest, channel: any Channel) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let uri = URI(head.path ?? "")
        let query = QueryParameters(uri.query ?? "")
        let received = Date()
        let certificateUser = head.headerFields[.authorization] == nil ? await Self.certificateUser(channel) : nil
        // Authenticated, impersonated and authorized as over plain HTTP (`get` and `create` on the subresource).
        guard let info = RequestInfo.parse(uri.path), info.group.isEmpty, info.resource == "pods", let name = info.name,
              let namespace = info.namespace, let sub = info.subresource, sub == "exec" || sub == "attach",
              let authenticated = certificateUser ?? (try? authenticate(authorization: head.headerFields[.authorization])),
              let user = try? impersonate(head.headerFields, as: authenticated),
              let reason = try? authorize(method: head.method, path: uri.path, query: query, user: user),
              let pods = store.scheme.resource(group: "", version: "v1", resource: "pods"),
              let pod = try? store.getObject(pods, namespace: namespace, name: name) else { return .dontUpgrade }
        let offered = (head.headerFields[.secWebSocketProtocol] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let chosen = Self.streamProtocols.first(where: offered.contains),
              let container = try? Self.container(of: pod, requested: query["container"]), let node = try? nodeOf(pod),
              let endpoint = try? NodeProxy.endpoint(of: node) else { return .dontUpgrade }
        if sub == "exec", query.values["command"]?.isEmpty ?? true { return .dontUpgrade }
        var forwarded: [String] = (query.values["command"] ?? []).map { "command=\(Self.escape($0))" }
        for flag in ["stdin", "stdout", "stderr", "tty"] where query.bool(flag) { forwarded.append("\(flag)=true") }
        let url = endpoint.replacingOccurrences(of: "https://", with: "wss://") + "/\(sub)/\(namespace)/\(name)/\(container)?" + forwarded.joined(separator: "&")
        guard let tls = try? NodeProxy.tlsConfiguration(credential: kubeletClient, caPEM: configuration.credentials.caPEM, verifyHostname: true) else {
            return .dontUpgrade
        }
        let nodeName = node.name
        let logger = self.logger
        let streams = openStreams
        // Requests that are not upgraded here are answered (and audited) over plain HTTP; an upgraded one is
        // audited as a long-running request: ResponseStarted with the 101, ResponseComplete when the stream ends.
        var audit = beginAudit(method: head.method, path: uri.path, rawQuery: uri.query, headers: head.headerFields, channel: channel,
                               authenticated: authenticated, effective: user, query: query, received: received)
        audit?.event.annotations = ["authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": reason]
        audit?.event.logResponse(code: 101, body: .null)
        audit?.emit(.responseStarted)
        let started = audit
        return .upgrade([.secWebSocketProtocol: chosen]) { inbound, outbound, _ in
            defer { started?.emit(.responseComplete) }
            // Shutdown ends the relay (and with it the agent side's session).
            _ = try? await streams.run {
                await Self.relay(inbound: inbound, outbound: outbound, to: url, nodeName: nodeName, tls: tls, logger: logger)
            }
        }
    }

    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// Joins the client's WebSocket to one opened to the node agent, message for message in both directions; a
    /// failure to reach the agent is reported on the status channel, as kube-apiserver does.
    static func relay(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, to url: String, nodeName: String,
                      tls: TLSConfiguration, logger: Logger) async {
        let configuration = WebSocketClientConfiguration(
            maxFrameSize: 1 << 20, additionalHeaders: [.secWebSocketProtocol: streamProtocols[0]],
            // Agents are addressed by IP, which TLS cannot carry as a server name: the node's name is the name its
            // serving certificate must hold.
            sniHostname: nodeName)
        do {
            try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tls, logger: logger) { agentInbound, agentOutbound, _ in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await message in inbound.messages(maxSize: 16 << 20) {
                                guard case .binary(let buffer) = message else { continue }
                                try await agentOutbound.write(.binary(buffer))
                            }
                        } catch {}
                        try? await agentOutbound.close(.normalClosure, reason: nil)
                    }
                    do {
                        for try await message in agentInbound.messages(maxSize: 16 << 20) {
                            guard case .binary(let buffer) = message else { continue }
                            try await outbound.write(.binary(buffer))
                        }
                    } catch {}
                    try? await outbound.close(.normalClosure, reason: nil)
                    group.cancelAll()
                }
            }
        } catch {
            let status: JSONValue = ["metadata": [:], "status": "Failure", "reason": "InternalError", "code": 500,
                                     "message": .string("error dialing the node agent: \(error)")]
            var buffer = ByteBuffer(integer: UInt8(3))
            buffer.writeBytes(JSONWriter.bytes(status))
            try? await outbound.write(.binary(buffer))
            try? await outbound.close(.normalClosure, reason: nil)
        }
    }
}
