import Metrics
import Synchronization

/// The metric handles of each kind of request (verb, group, version, resource, subresource, code), made once and
/// kept: asking the metrics factory for three handles per request (a lock and a hash of every label each time) was
/// 1.5 % of the server's CPU at 5,000 nodes.
final class RequestMetrics: Sendable {
    struct Key: Hashable, Sendable {
        var verb: String
        var group: String
        var version: String
        var resource: String
        var subresource: String
        var code: Int
    }

    struct Handles: Sendable {
        /// `apiserver_request_total`.
        let total: Counter
        /// `apiserver_request_duration_seconds`: from arrival.
        let duration: Timer
        /// `apiserver_request_sli_duration_seconds`: from leaving flow control's queue.
        let sli: Timer
    }

    /// Kinds of request are few (each resource's verbs and their codes); the bound only guards against a client
    /// inventing endless ones, past which handles are made per request as before.
    private static let limit = 4096
    private let handles = Mutex<[Key: Handles]>([:])

    func handles(for key: Key) -> Handles {
        if let known = handles.withLock({ $0[key] }) { return known }
        let dimensions = [("verb", key.verb), ("group", key.group), ("version", key.version), ("resource", key.resource),
                          ("subresource", key.subresource)]
        let made = Handles(total: Counter(label: "apiserver_request_total", dimensions: dimensions + [("code", String(key.code))]),
                           duration: Timer(label: "apiserver_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds),
                           sli: Timer(label: "apiserver_request_sli_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds))
        handles.withLock { if $0.count < Self.limit { $0[key] = made } }
        return made
    }
}
