import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Synchronization
public import TugAudit
import TugAPIMachinery
import TugAuth

/// kube-apiserver's `--audit-policy-file` with `--audit-log-path`: the policy decides each request's level, the
/// sink takes one JSON line per stage.
public struct AuditBackend: Sendable {
    public let policy: AuditPolicy
    public let sink: any AuditSink

    public init(policy: AuditPolicy, sink: any AuditSink) {
        self.policy = policy
        self.sink = sink
    }
}

/// One request being audited: its event and the stages the policy leaves out.
struct RequestAudit: Sendable {
    var event: AuditEvent
    let omit: Set<AuditStage>
    let sink: any AuditSink

    func emit(_ stage: AuditStage) {
        guard !omit.contains(stage) else { return }
        sink.write(event.line(stage: stage, now: Date()))
    }
}

/// The object a write's handler decoded from its body, for the audit event (`$current` is set while a request
/// audited at Request level or above is handled).
final class AuditRequestObject: Sendable {
    @TaskLocal static var current: AuditRequestObject?
    let object = Mutex<JSONValue>(.null)

    static func record(_ object: JSONValue) {
        current?.object.withLock { $0 = object }
    }
}

/// The bytes of a response body as it is written (up to a bound), for the event written after it.
final class CapturedBody: Sendable {
    let bytes = Mutex<[UInt8]>([])
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func append(_ buffer: ByteBuffer) {
        bytes.withLock { bytes in
            guard bytes.count + buffer.readableBytes <= limit else { return }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
    }
}

extension APIServer {
    /// Starts the audit of a request whose user is known (nil: it failed authentication): nil when auditing is off
    /// or the policy says None. Writes RequestReceived.
    func beginAudit(_ request: Request, channel: (any Channel)?, authenticated: UserInfo?, effective: UserInfo?,
                    query: QueryParameters, received: Date) -> RequestAudit? {
        beginAudit(method: request.method, path: request.uri.path, rawQuery: request.uri.query, headers: request.headers, channel: channel,
                   authenticated: authenticated, effective: effective, query: query, received: received)
    }

    func beginAudit(method: HTTPRequest.Method, path: String, rawQuery: String?, headers: HTTPFields, channel: (any Channel)?,
                    authenticated: UserInfo?, effective: UserInfo?, query: QueryParameters, received: Date) -> RequestAudit? {
        guard let backend = configuration.audit else { return nil }
        let attributes = effective.flatMap { user in
            Self.authorizationAttributes(method: method, path: path, query: query, user: user).first
        }
        let decision = backend.policy.decide(attributes)
        guard decision.level > .none else { return nil }
        let uri = rawQuery.map { "\(path)?\($0)" } ?? path
        let verb = attributes?.verb ?? method.rawValue.lowercased()
        var event = AuditEvent(level: decision.level, requestURI: uri, verb: verb, user: authenticated,
                               sourceIPs: [channel?.remoteAddress?.ipAddress ?? "127.0.0.1"], userAgent: headers[.userAgent], received: received)
        if let effective, let authenticated, effective != authenticated { event.impersonatedUser = effective }
        event.omitManagedFields = decision.omitManagedFields
        if let attributes { event.refer(to: attributes) }
        let audit = RequestAudit(event: event, omit: decision.omitStages, sink: backend.sink)
        audit.emit(.requestReceived)
        return audit
    }

    /// A PATCH body is logged as sent (upstream logs the patch, not the patched object); other writes log the
    /// object their handler decoded (`AuditRequestObject`), whatever its content type.
    static func auditPatchBody(_ request: inout Request, into audit: inout RequestAudit, limit: Int) async {
        guard audit.event.level >= .request, request.method == .patch, let buffer = try? await request.collectBody(upTo: limit) else { return }
        let bytes = Array(buffer.readableBytesView)
        if let object = try? JSONParser.parseValue(bytes) { audit.event.logRequest(object) }
    }

    /// Writes ResponseStarted now for a long-running request, and ResponseComplete once the body is out, with the
    /// response's status (and at RequestResponse its body, except for a stream).
    static func finishAudit(_ audit: RequestAudit, response: inout Response, longRunning: Bool, decision: (allowed: Bool, reason: String)?) {
        var audit = audit
        if let decision {
            audit.event.annotations["authorization.k8s.io/decision"] = decision.allowed ? "allow" : "forbid"
            audit.event.annotations["authorization.k8s.io/reason"] = decision.reason
        }
        let code = response.status.code
        audit.event.logResponse(code: code, body: .null)
        if longRunning {
            audit.emit(.responseStarted)
            let body = response.body
            let started = audit
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer { started.emit(.responseComplete) }
                try await body.write(writer)
            }
            return
        }
        let capture = audit.event.level >= .requestResponse || code >= 400 ? CapturedBody(limit: 4 << 20) : nil
        let body = response.body
        let finished = audit
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            var complete = finished
            defer {
                if let capture, let parsed = try? JSONParser.parseValue(capture.bytes.withLock { $0 }) {
                    complete.event.logResponse(code: code, body: parsed)
                }
                complete.emit(.responseComplete)
            }
            if let capture {
                try await body.write(writer.map { buffer in
                    capture.append(buffer)
                    return buffer
                })
            } else {
                try await body.write(writer)
            }
        }
    }

    /// Whether the response streams for as long as the client stays (a watch, a followed log, a proxied stream).
    static func isLongRunning(_ info: RequestInfo?, query: QueryParameters) -> Bool {
        if query.bool("watch") { return true }
        guard let sub = info?.subresource else { return false }
        return ["exec", "attach", "portforward", "proxy"].contains(sub) || (sub == "log" && query.bool("follow"))
    }
}
