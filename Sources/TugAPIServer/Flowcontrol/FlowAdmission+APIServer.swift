import Hummingbird
import HTTPTypes
import Synchronization
import TugAPI
import TugAPIMachinery
import TugAuth
import TugRegistry

/// Returns a dispatched request's seats exactly once: when its handler is done, when a watch has sent its initial
/// events, or when the response is dropped without ever running its body.
final class FlowRelease: Sendable {
    let controller: FlowController
    let ticket: FlowTicket
    let released = Atomic<Bool>(false)

    init(controller: FlowController, ticket: FlowTicket) {
        self.controller = controller
        self.ticket = ticket
    }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        controller.finish(ticket)
    }

    deinit { release() }
}

extension APIServer {
    static let flowSchemaHeader = HTTPField.Name("X-Kubernetes-PF-FlowSchema-UID")!
    static let priorityLevelHeader = HTTPField.Name("X-Kubernetes-PF-PriorityLevel-UID")!
    static let retryAfterHeader = HTTPField.Name("Retry-After")!
    /// What a rejected client is told to wait before retrying (client-go retries a 429 up to ten times).
    static let flowRetryAfterSeconds = 1

    /// The request as flow control sees it; nil for long-running requests other than watches (exec, attach,
    /// port-forward, proxy and followed logs), which upstream does not hold seats for.
    func flowDigest(_ request: Request, info: RequestInfo?, query: QueryParameters, user: UserInfo) -> RequestDigest? {
        guard let info else {
            return RequestDigest(user: user, verb: request.method.rawValue.lowercased(), resource: nil, path: request.uri.path)
        }
        if let sub = info.subresource {
            if ["exec", "attach", "portforward", "proxy"].contains(sub) { return nil }
            if sub == "log", query.bool("follow") { return nil }
        }
        let verb: String
        switch request.method {
        case .get: verb = info.name == nil ? (query.bool("watch") ? "watch" : "list") : "get"
        case .post: verb = "create"
        case .put: verb = "update"
        case .patch: verb = "patch"
        case .delete: verb = info.name == nil ? "deletecollection" : "delete"
        default: verb = request.method.rawValue.lowercased()
        }
        let resource = info.subresource.map { "\(info.resource)/\($0)" } ?? info.resource
        return RequestDigest(user: user, verb: verb, resource: .init(group: info.group, resource: resource, namespace: info.namespace ?? ""),
                             path: request.uri.path)
    }

    /// Seats a request occupies while it runs, as upstream's work estimator: a LIST one per hundred objects it may
    /// have to read (the resource's count, or its `limit` when nothing filters), from 1 to 10; anything else 1.
    func flowSeats(_ digest: RequestDigest, definition: ResourceDefinition?, query: QueryParameters) -> Int {
        guard digest.verb == "list", let definition else { return 1 }
        let storage = store.scheme.storageDefinition(for: definition)
        var objects = store.backend.count(resourcePrefix: StorageKeys.prefix(storage, namespace: nil))
        let filtered = !(query["labelSelector"] ?? "").isEmpty || !(query["fieldSelector"] ?? "").isEmpty
        if !filtered, let limit = (try? query.integer("limit")) ?? nil, limit > 0 { objects = min(objects, Int(limit)) }
        return min(10, max(1, (objects + 99) / 100))
    }

    /// Admits the request through flow control: it runs now, after waiting in its queue, or is rejected.
    /// `resource` is nil for a non-resource request (or one naming no served resource).
    func admitFlow(_ request: Request, resource: (info: RequestInfo, definition: ResourceDefinition)?, query: QueryParameters,
                   user: UserInfo) async -> FlowGate {
        guard let digest = flowDigest(request, info: resource?.info, query: query, user: user) else { return .bypass }
        switch await flowControl.admit(digest, seats: flowSeats(digest, definition: resource?.definition, query: query)) {
        case .admitted(let ticket, let classification):
            return .admitted(FlowRelease(controller: flowControl, ticket: ticket), classification, watch: digest.verb == "watch")
        case .rejected(let classification, _):
            return .rejected(classification)
        }
    }

    static func addFlowHeaders(_ response: inout Response, _ classification: FlowClassification?) {
        guard let classification else { return }
        response.headers[flowSchemaHeader] = classification.schemaUID
        response.headers[priorityLevelHeader] = classification.levelUID
    }

    static func rejection(_ classification: FlowClassification) -> Response {
        var response = Responses.error(.tooManyRequests(retryAfterSeconds: flowRetryAfterSeconds))
        response.headers[retryAfterHeader] = String(flowRetryAfterSeconds)
        addFlowHeaders(&response, classification)
        return response
    }
}

/// Flow control's answer to one request.
enum FlowGate {
    /// Long-running (not a watch): not held to a seat.
    case bypass
    /// Runs now; `watch` requests keep their seat until their initial events are sent.
    case admitted(FlowRelease, FlowClassification, watch: Bool)
    case rejected(FlowClassification)
}
