import Logging
import TugAPIMachinery
import TugClient
import TugControllerRuntime

/// The resources the API serves, from its discovery documents (the preferred version of each group).
enum Discovery {
    /// Top-level resources that support list, watch and delete; retried until the API answers or the task ends.
    static func deletableResources(_ client: RESTClient, logger: Logger) async throws -> [APIResource] {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                return try await fetch(client)
            } catch {
                try Task.checkCancellation()
                logger.debug("discovery failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    static func fetch(_ client: RESTClient) async throws -> [APIResource] {
        var versions: [(group: String, version: String)] = [("", "v1")]
        let groups = try await client.send(.GET, "/apis")
        for group in groups["groups"].arrayValue ?? [] {
            if let name = group["name"].stringValue, let version = group["preferredVersion"]["version"].stringValue {
                versions.append((name, version))
            }
        }
        var resources: [APIResource] = []
        for (group, version) in versions {
            let list = try await client.send(.GET, group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)")
            for entry in list["resources"].arrayValue ?? [] {
                guard let name = entry["name"].stringValue, !name.contains("/"), let kind = entry["kind"].stringValue else { continue }
                let verbs = Set((entry["verbs"].arrayValue ?? []).compactMap(\.stringValue))
                guard verbs.isSuperset(of: ["list", "watch", "delete"]) else { continue }
                resources.append(APIResource(group: group, version: version, resource: name, kind: kind, namespaced: entry["namespaced"].boolValue ?? true))
            }
        }
        return resources
    }
}
