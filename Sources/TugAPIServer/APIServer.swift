import Crypto
import Foundation
public import Hummingbird
import HTTPTypes
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
public import Logging
import Metrics
import NIOCore
import NIOSSL
import TugAPI
import TugAPIMachinery
public import TugAuth
public import TugRegistry

/// The request context: Hummingbird's core storage plus the authenticated user.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var user: UserInfo?
    /// The client's connection: long-lived responses watch it to notice a client that went away. None for a
    /// request from this process (`InProcessTransport`): cancelling its task ends it.
    public let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The context of a request made in this process.
    init(logger: Logger) {
        coreContext = .init(source: InProcessSource(logger: logger))
        channel = nil
    }

    struct InProcessSource: RequestContextSource {
        var logger: Logger
    }
}

/// The Kubernetes API server: HTTPS, bearer-token authentication and the REST surface kubectl 1.32 speaks.
public final class APIServer: Sendable {
    public struct Configuration: Sendable {
        public var bindAddress: String
        public var port: Int
        public var credentials: ClusterCredentials
        /// Largest accepted request body (the real API server's limit is 3 MiB).
        public var maxBodyBytes = 3 * 1024 * 1024
        /// kube-apiserver's `--min-request-timeout`: a watch without `timeoutSeconds` lasts between one and two of these.
        public var minRequestTimeoutSeconds = 1800
        /// How long a new connection may take to deliver its first request (TLS handshake included).
        public var requestHeaderTimeoutSeconds = 32
        /// kube-apiserver's --max-requests-inflight and --max-mutating-requests-inflight: together the server's
        /// concurrency limit, which API Priority and Fairness divides among its priority levels.
        public var maxRequestsInflight = 400
        public var maxMutatingRequestsInflight = 200
        /// The most connections one client address may hold open (0: no cap); more are closed as they arrive.
        public var maxConnectionsPerClient = 4096
        /// How long a watch write may wait on a client that does not read before its connection is closed.
        public var watchStallTimeout: Duration = .seconds(30)
        /// kube-apiserver's `--service-account-issuer`: the `iss` of the tokens it signs, and the audience they must
        /// name to authenticate to it.
        public var serviceAccountIssuer = ServiceAccountTokens.defaultIssuer
        /// Audit logging; nil (the default) for none.
        public var audit: AuditBackend?

        public init(bindAddress: String, port: Int, credentials: ClusterCredentials) {
            self.bindAddress = bindAddress
            self.port = port
            self.credentials = credentials
        }
    }

    let store: ObjectStore
    let configuration: Configuration
    let logger: Logger
    let discovery: Discovery
    let openAPI: OpenAPI
    let openAPIHash: String
    let metricsText: @Sendable () -> String
    let ready: @Sendable () -> Bool
    let tokens: ServiceAccountTokens
    /// Reaches node agents for pod logs and streams.
    let nodes: NodeProxy
    /// The client certificate the API server presents to node agents.
    let kubeletClient: ClusterCA.Issued?
    /// API Priority and Fairness.
    let flowControl: FlowController
    /// Open connections per client address.
    let connections: ConnectionCounter
    /// Watches, followed logs and exec/attach relays, ended together at shutdown.
    let openStreams = OpenStreams()
    /// The in-process components' own identities (`token(for:)`).
    public let components = ComponentTokens([.kubeScheduler, .kubeControllerManager, .kubeProxy, .clusterDNS]
                                            + ControllerPolicy.controllers.map(ControllerPolicy.user))
    let requestMetrics = RequestMetrics()

    public init(store: ObjectStore, configuration: Configuration, logger: Logger,
                metrics: @escaping @Sendable () -> String = { "" }, ready: @escaping @Sendable () -> Bool = { true }) throws {
        self.tokens = try ServiceAccountTokens(pem: configuration.credentials.serviceAccountKeyPEM, issuer: configuration.serviceAccountIssuer)
        // The API server's identity on node agents, issued at each start (none for a data dir whose CA cannot sign:
        // agents then refuse it).
        let kubeletClient = try configuration.credentials.ca.map { ca in
            let issued = try ca.issue(commonName: UserInfo.apiServerKubeletClient.name, usage: .client)
            return ClusterCA.Issued(certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM)
        }
        self.kubeletClient = kubeletClient
        self.nodes = NodeProxy(credential: kubeletClient, caPEM: configuration.credentials.caPEM, streams: openStreams)
        self.connections = ConnectionCounter(limit: configuration.maxConnectionsPerClient)
        self.flowControl = FlowController(serverConcurrency: configuration.maxRequestsInflight + configuration.maxMutatingRequestsInflight)
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.discovery = Discovery(scheme: store.scheme, serverAddress: "\(configuration.bindAddress):\(configuration.port)")
        self.openAPI = OpenAPI(scheme: store.scheme)
        // Content-derived, so kubectl's URL-keyed OpenAPI cache is invalidated exactly when the schemas change.
        self.openAPIHash = SHA256.hash(data: JSONWriter.bytes(openAPI.swagger())).prefix(8).map { String(format: "%02x", $0) }.joined()
        self.metricsText = metrics
        self.ready = ready
    }

    /// The Hummingbird application serving HTTPS on the configured address.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(configuration.credentials.servingCertificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(configuration.credentials.servingKeyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.applicationProtocols = ["http/1.1"]
        // Client certificates are optional (bearer tokens are the other way in); one presented must chain to the
        // cluster CA.
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(configuration.credentials.caPEM.utf8)))
        // Do not wait 5 s (the default) for a close_notify from clients that already went away.
        tls.shutdownTimeout = .milliseconds(500)
        // pods/exec and pods/attach upgrade to WebSocket (see PodStreams); everything else is plain HTTP/1.1.
        // An idle keep-alive connection closes after 90 s (a watch or a streamed log is a request in progress, not
        // idle); one that never sends its first request closes after the header timeout.
        let http = HTTP1WebSocketUpgradeChannel.Configuration(http1: .init(idleTimeout: .seconds(90)), ws: .init(maxFrameSize: 1 << 20))
        let firstRequest = TimeAmount.seconds(Int64(configuration.requestHeaderTimeoutSeconds))
        let serverTLS = tls
        let connections = self.connections
        let server = HTTPServerBuilder { [self] responder in
            let upgrade = HTTP1WebSocketUpgradeChannel(responder: responder, configuration: http) { head, channel, _ in
                await self.streamUpgrade(head, channel: channel)
            }
            return ConnectionCap(base: FirstRequestDeadline(base: try TLSChannel(upgrade, tlsConfiguration: serverTLS), timeout: firstRequest),
                                 counter: connections)
        }
        return Application(
            responder: responder(),
            server: server,
            configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Ends every open watch, followed log and exec/attach session (server shutdown: clients reconnect and rewatch
    /// from their last resourceVersion elsewhere or later).
    public func closeStreams() {
        openStreams.closeAll()
    }

    /// Releases the connections to node agents.
    public func shutdown() async {
        await nodes.shutdown()
    }

    /// The request handler alone, for in-process tests and other transports.
    public func responder() -> CallbackResponder<APIRequestContext> {
        CallbackResponder<APIRequestContext> { [self] request, context in
            await self.respond(to: request, context: context)
        }
    }

    // MARK: Dispatch

    func respond(to request: Request, context: APIRequestContext) async -> Response {
        let started = ContinuousClock.now
        let path = request.uri.path
        let query = QueryParameters(request.uri.query ?? "")
        let info = RequestInfo.parse(path)
        // Resolved once: flow control and the handler both need it.
        let definition = info.flatMap { resolve($0) }
        // Metrics name only what the server serves: any client (even one that fails authentication) can invent paths,
        // and a series per invented group, resource or subresource would grow without end.
        let labelled = definition.flatMap { d in info.map { Self.metricLabels($0, definition: d) } }
        var response: Response
        var classification: FlowClassification?
        // When the request left flow control's queue: the SLI latency (as upstream's) leaves out the wait there,
        // and is not recorded for long-running requests (watches, exec, attach, port-forward, proxy, followed logs).
        var admitted: ContinuousClock.Instant? = started
        let watchQuery = query.bool("watch")
        // What admission tells the client without refusing the request (Pod Security warnings, …).
        let warnings = AdmissionWarnings()
        let received = configuration.audit == nil ? Date.distantPast : Date()
        var audit: RequestAudit?
        var decision: (allowed: Bool, reason: String)?
        var decoded: AuditRequestObject?
        do {
            var context = context
            var request = request
            var authenticated: UserInfo?
            if !Self.publicPaths.contains(path) {
                do {
                    authenticated = try await authenticate(request, channel: context.channel)
                } catch {
                    audit = beginAudit(request, channel: context.channel, authenticated: nil, effective: nil, query: query, received: received)
                    throw error
                }
                context.user = try impersonate(request.headers, as: authenticated!)
            }
            let user = context.user ?? .anonymous
            if configuration.audit != nil {
                audit = beginAudit(request, channel: context.channel, authenticated: authenticated ?? .anonymous, effective: user, query: query, received: received)
                if audit != nil { await Self.auditPatchBody(&request, into: &audit!, limit: configuration.maxBodyBytes) }
            }
            var flow: FlowRelease?
            var watch = false
            let resource = definition.flatMap { d in info.map { (info: $0, definition: d) } }
            switch await admitFlow(request, resource: resource, query: query, user: user) {
            case .bypass:
                admitted = nil
            case .admitted(let release, let c, let isWatch):
                (flow, classification, watch) = (release, c, isWatch)
                admitted = isWatch ? nil : ContinuousClock.now
            case .rejected(let c):
                let rejected = Self.rejection(c)
                record(request: request, info: labelled, watch: watchQuery, status: rejected.status.code, started: started, admitted: admitted)
                return rejected
            }
            // A watch returns its seat once its initial events are out; anything else when its handler is done.
            defer { if !watch { flow?.release() } }
            if context.user != nil {
                do {
                    decision = (true, try authorize(method: request.method, path: path, query: query, user: user))
                } catch {
                    decision = (false, "")
                    throw error
                }
            }
            decoded = audit.map { $0.event.level >= .request && request.method != .patch } == true ? AuditRequestObject() : nil
            let decoded = decoded
            response = try await AdmissionWarnings.$current.withValue(warnings) {
                try await AuditRequestObject.$current.withValue(decoded) {
                    if let (i, d) = resource {
                        return try await handleResource(request, info: i, definition: d, query: query, connection: context.channel,
                                                        flow: watch ? flow : nil, user: context.user)
                    }
                    return try await handleNonResource(request, path: path, query: query, user: user)
                }
            }
        } catch let error as StatusError {
            response = Responses.error(error)
        } catch {
            logger.error("request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            response = Responses.error(.internalError("\(error)"))
        }
        for (name, value) in Responses.warnings(warnings.all) { response.headers.append(HTTPField(name: name, value: value)) }
        Self.addFlowHeaders(&response, classification)
        if var audit {
            if let decoded { audit.event.logRequest(decoded.object.withLock { $0 }) }
            audit.event.annotations.merge(warnings.annotations) { $1 }
            response.headers[HTTPField.Name("Audit-Id")!] = audit.event.auditID
            Self.finishAudit(audit, response: &response, longRunning: Self.isLongRunning(info, query: query), decision: decision)
        }
        record(request: request, info: labelled, watch: watchQuery, status: response.status.code, started: started, admitted: admitted)
        return response
    }

    static let publicPaths: Set<String> = ["/livez", "/readyz", "/healthz", "/version", "/version/", "/cacerts",
                                           "/.well-known/openid-configuration", "/openid/v1/jwks"]

    /// The user behind the bearer token: the cluster admin, a component of this process, a node, or a service
    /// account whose token this server signed for the API's audience and that still exists.
    func authenticate(_ request: Request, channel: (any Channel)?) async throws(StatusError) -> UserInfo {
        if request.headers[.authorization] == nil, let channel, let user = await Self.certificateUser(channel) { return user }
        return try authenticate(authorization: request.headers[.authorization])
    }

    /// The user of the connection's verified client certificate, if it presented one with the clientAuth usage.
    static func certificateUser(_ channel: any Channel) async -> UserInfo? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(), let der = try? certificate.toDERBytes(),
              let identity = ClientCertificateIdentity.user(derBytes: der) else { return nil }
        var groups = identity.groups
        if !groups.contains(UserInfo.authenticatedGroup) { groups.append(UserInfo.authenticatedGroup) }
        return UserInfo(name: identity.name, groups: groups)
    }

    func authenticate(authorization header: String?) throws(StatusError) -> UserInfo {
        guard let header, header.hasPrefix("Bearer ") || header.hasPrefix("bearer ") else {
            throw .unauthorized()
        }
        let token = String(HeaderText.trimmed(header.dropFirst("Bearer ".count)))
        if Self.constantTimeEquals(token, configuration.credentials.adminToken) { return .admin }
        // The join token only bootstraps: it may ask for a node's certificate, nothing else.
        if !configuration.credentials.nodeSecret.isEmpty, Self.constantTimeEquals(token, configuration.credentials.nodeToken) { return .nodeBootstrap }
        if let component = components.user(for: token) { return component }
        guard let (user, _) = authenticateToken(token, audiences: [tokens.issuer]) else { throw .unauthorized() }
        return user
    }

    /// The service account a token this server signed belongs to, when the account (and the pod or secret the
    /// token is bound to) still exists and the token is for one of `audiences`; with the audiences it matched.
    func authenticateToken(_ token: String, audiences: [String]) -> (UserInfo, [String])? {
        guard let claims = tokens.verify(token, now: store.now),
              let sa = store.scheme.resource(group: "", version: "v1", resource: "serviceaccounts"),
              let account = try? store.getObject(sa, namespace: claims.namespace, name: claims.name), account.uid == claims.uid
        else { return nil }
        let matched = audiences.filter(claims.audiences.contains)
        guard !matched.isEmpty else { return nil }
        var user = UserInfo.serviceAccount(namespace: claims.namespace, name: claims.name, uid: claims.uid)
        if !claims.id.isEmpty { user.extra["authentication.kubernetes.io/credential-id"] = ["JTI=\(claims.id)"] }
        if let bound = claims.bound {
            guard let definition = store.scheme.resource(group: "", version: "v1", resource: bound.kind == "Pod" ? "pods" : "secrets"),
                  let object = try? store.getObject(definition, namespace: claims.namespace, name: bound.name), object.uid == bound.uid else { return nil }
            // A pod's token stops working once the pod has been going away for a minute.
            if let deleted = object.deletionTimestamp.flatMap(KubeTime.parse), store.now.timeIntervalSince(deleted) > 60 { return nil }
            if bound.kind == "Pod" {
                user.extra["authentication.kubernetes.io/pod-name"] = [bound.name]
                user.extra["authentication.kubernetes.io/pod-uid"] = [bound.uid]
            }
        }
        if let node = claims.node {
            user.extra["authentication.kubernetes.io/node-name"] = [node.name]
            user.extra["authentication.kubernetes.io/node-uid"] = [node.uid]
        }
        return (user, matched)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    func resolve(_ info: RequestInfo) -> ResourceDefinition? {
        store.scheme.resource(group: info.group, version: info.version, resource: info.resource)
    }

    /// The request's metrics: `apiserver_request_total`, `apiserver_request_duration_seconds` (from arrival) and, for
    /// requests that are not long-running, `apiserver_request_sli_duration_seconds` (from leaving flow control's
    /// queue: the latency the upstream SLO and clusterloader2 judge).
    func record(request: Request, info: RequestInfo?, watch: Bool, status: Int, started: ContinuousClock.Instant,
                admitted: ContinuousClock.Instant?) {
        let verb = Self.verb(request.method, info: info, watch: watch)
        let metrics = requestMetrics.handles(for: .init(verb: verb, group: info?.group ?? "", version: info?.version ?? "",
                                                        resource: info?.resource ?? "", subresource: info?.subresource ?? "", code: status))
        metrics.total.increment()
        let now = ContinuousClock.now
        let elapsed = now - started
        logger.debug("request", metadata: ["verb": "\(verb)", "path": "\(request.uri.path)", "code": "\(status)",
                                           "duration_ms": "\(elapsed.nanoseconds / 1_000_000)"])
        metrics.duration.recordNanoseconds(elapsed.nanoseconds)
        if let admitted { metrics.sli.recordNanoseconds((now - admitted).nanoseconds) }
    }

    /// The verb label, as upstream's CleanVerb: any method the API does not define is "other" (a client may send
    /// any token as a method).
    static func verb(_ method: HTTPRequest.Method, info: RequestInfo?, watch: Bool) -> String {
        switch method {
        case .get: return info?.name == nil ? (watch ? "WATCH" : "LIST") : "GET"
        case .head: return "HEAD"
        case .post: return "POST"
        case .put: return "PUT"
        case .patch: return "PATCH"
        case .delete: return info?.name == nil ? "DELETECOLLECTION" : "DELETE"
        case .options: return "OPTIONS"
        case .connect: return "CONNECT"
        default: return "other"
        }
    }

    /// A served resource's request as its metrics name it: a subresource the resource does not have is left out.
    static func metricLabels(_ info: RequestInfo, definition: ResourceDefinition) -> RequestInfo {
        var labelled = info
        if let name = info.subresource, definition.subresource(name) == nil { labelled.subresource = "" }
        return labelled
    }

    // MARK: Non-resource paths

    func handleNonResource(_ request: Request, path: String, query: QueryParameters, user: UserInfo) async throws -> Response {
        let accept = request.headers[.accept] ?? ""
        switch (request.method, path) {
        case (.get, "/version"), (.get, "/version/"):
            return Responses.json(Self.version)
        case (.get, "/.well-known/openid-configuration"):
            return Responses.json(tokens.discovery(jwksURI: "\(tokens.issuer)/openid/v1/jwks"))
        case (.get, "/openid/v1/jwks"):
            return Responses.json(try tokens.jwks(), contentType: "application/jwk-set+json")
        case (.get, "/cacerts"):
            // Public: joining agents fetch the CA here and check it against the hash in their join token.
            return Responses.bytes(Array(configuration.credentials.caPEM.utf8), contentType: "application/x-pem-file")
        case (.get, "/livez"), (.get, "/healthz"):
            return Responses.text(query["verbose"] != nil ? "[+]ping ok\n[+]etcd ok\nlivez check passed\n" : "ok")
        case (.get, "/readyz"):
            guard ready() else { return Responses.text("[-]informer-sync failed: not ready\nreadyz check failed", status: .serviceUnavailable) }
            return Responses.text(query["verbose"] != nil ? "[+]ping ok\n[+]etcd ok\nreadyz check passed\n" : "ok")
        case (.get, "/metrics"):
            return Responses.bytes(Array((metricsText() + flowControl.metricsText()).utf8), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case (.get, "/api"), (.get, "/api/"):
            if Self.wantsAggregated(accept) { return Responses.json(discovery.aggregated(core: true), contentType: Self.aggregatedType) }
            return Responses.json(discovery.apiVersions)
        case (.get, "/apis"), (.get, "/apis/"):
            if Self.wantsAggregated(accept) { return Responses.json(discovery.aggregated(core: false), contentType: Self.aggregatedType) }
            return Responses.json(discovery.groupList)
        case (.get, "/openapi/v3"), (.get, "/openapi/v3/"):
            return Responses.json(openAPI.index(hash: openAPIHash))
        case (.get, "/openapi/v2"):
            return Responses.json(openAPI.swagger())
        default:
            break
        }
        let parts = path.split(separator: "/").map(String.init)
        if request.method == .get {
            if parts.count == 2, parts[0] == "api", let list = discovery.resourceList(group: "", version: parts[1]) { return Responses.json(list) }
            if parts.count == 2, parts[0] == "apis", let group = discovery.group(parts[1]) { return Responses.json(group) }
            if parts.count == 3, parts[0] == "apis", let list = discovery.resourceList(group: parts[1], version: parts[2]) { return Responses.json(list) }
            if parts.count >= 3, parts[0] == "openapi", parts[1] == "v3" {
                let gv = parts[2] == "api" ? ("", parts.count > 3 ? parts[3] : "") : (parts.count > 4 ? parts[3] : "", parts.count > 4 ? parts[4] : "")
                if let doc = openAPI.document(group: gv.0, version: gv.1) { return Responses.json(doc) }
            }
        }
        if request.method == .post, parts.count == 4, parts[0] == "apis" {
            return try await handleReview(request, group: parts[1], version: parts[2], resource: parts[3], namespace: nil, user: user)
        }
        if request.method == .post, parts.count == 6, parts[0] == "apis", parts[3] == "namespaces" {
            return try await handleReview(request, group: parts[1], version: parts[2], resource: parts[5], namespace: parts[4], user: user)
        }
        throw StatusError.notFoundPath()
    }

    static let aggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    static func wantsAggregated(_ accept: String) -> Bool {
        accept.contains("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    }

    static let version: JSONValue = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.4+tug", "gitCommit": "tugboat", "gitTreeState": "clean",
        "buildDate": "2026-11-22T00:00:00Z", "goVersion": "swift6", "compiler": "swiftc", "platform": "linux/amd64",
    ]

    func collect(_ request: inout Request) async throws -> [UInt8] {
        do {
            var buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw StatusError.tooLarge(limit: configuration.maxBodyBytes)
        }
    }
}
