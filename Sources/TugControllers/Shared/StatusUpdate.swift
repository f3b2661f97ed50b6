import TugAPIMachinery
import TugClient
import TugControllerRuntime

/// Writes a status computed from other objects (replicas counted from pods, and the like): when the cached object
/// is stale (409), the status goes onto the latest version instead of failing the whole reconcile, as kube's
/// controllers retry their status updates.
enum StatusUpdate {
    @discardableResult
    static func write(_ client: RESTClient, _ resource: APIResource, _ object: JSONValue, status: JSONValue) async throws -> JSONValue {
        var current = object
        for attempt in 0..<3 {
            current["status"] = status
            do {
                return try await client.update(resource.path(ObjectKey(current), subresource: "status"), current)
            } catch let error as StatusError where error.reason == .conflict && attempt < 2 {
                current = try await client.send(.GET, resource.path(ObjectKey(object)))
                guard current.uid == object.uid else { throw error }
            }
        }
        return current
    }
}
