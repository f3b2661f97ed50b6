import Foundation
import Hummingbird
import TugAPI
import TugAPIMachinery
import TugRegistry

extension APIServer {
    /// `pods/log`: checks the pod and container as kube-apiserver does, then streams the log from the pod's node.
    func podLog(pod: JSONValue, definition d: ResourceDefinition, query: QueryParameters) async throws -> Response {
        let container = try Self.container(of: pod, requested: query["container"])
        let node = try nodeOf(pod)
        for key in ["tailLines", "limitBytes", "sinceSeconds"] {
            if let value = query[key], (Int64(value) ?? -1) < (key == "tailLines" ? 0 : 1) {
                throw StatusError.invalid(kind: "PodLogOptions", group: "", name: pod.name, errors: {
                    var errors = FieldErrorList()
                    errors.invalid(key, .string(value), key == "tailLines" ? "must be greater than or equal to 0" : "must be greater than 0")
                    return errors
                }())
            }
        }
        let forwarded = ["follow", "tailLines", "sinceSeconds", "sinceTime", "timestamps", "previous", "limitBytes"].compactMap { key in
            query[key].map { "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" }
        }.joined(separator: "&")
        return try await nodes.get(node: node, path: "/containerLogs/\(pod.namespace)/\(pod.name)/\(container)", query: forwarded)
    }

    /// The container a log/exec/attach request means: the one named, the only one, or the default-container annotation.
    static func container(of pod: JSONValue, requested: String?) throws(StatusError) -> String {
        let spec = pod["spec"]
        let names = (spec["containers"].arrayValue ?? []).compactMap { $0["name"].stringValue }
        let initNames = (spec["initContainers"].arrayValue ?? []).compactMap { $0["name"].stringValue }
        let ephemeral = (spec["ephemeralContainers"].arrayValue ?? []).compactMap { $0["name"].stringValue }
        if let requested, !requested.isEmpty {
            guard names.contains(requested) || initNames.contains(requested) || ephemeral.contains(requested) else {
                throw .badRequest("container \(requested) is not valid for pod \(pod.name)")
            }
            return requested
        }
        if names.count == 1 { return names[0] }
        if let annotated = pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"].stringValue, names.contains(annotated) {
            return annotated
        }
        var message = "a container name must be specified for pod \(pod.name), choose one of: [\(names.joined(separator: " "))]"
        if !initNames.isEmpty { message += " or one of the init containers: [\(initNames.joined(separator: " "))]" }
        throw .badRequest(message)
    }

    /// The Node object of the node a pod is bound to.
    func nodeOf(_ pod: JSONValue) throws -> JSONValue {
        guard let name = pod["spec"]["nodeName"].stringValue, !name.isEmpty else {
            throw StatusError.badRequest("pod \(pod.name) does not have a host assigned")
        }
        guard let nodes = store.scheme.resource(group: "", version: "v1", resource: "nodes"),
              let node = try? store.getObject(nodes, namespace: "", name: name) else {
            throw StatusError.notFound(GroupResource(group: "", resource: "nodes"), name: name)
        }
        return node
    }
}
