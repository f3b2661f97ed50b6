import TugAPIMachinery
import TugClient

/// What the agent reads from the cluster besides pods: ConfigMap and Secret data and service-account tokens.
protocol ClusterReader: Sendable {
    /// A ConfigMap's `data` and `binaryData`, or a Secret's decoded `data`; nil when the object does not exist.
    func data(kind: String, namespace: String, name: String) async throws -> [String: [UInt8]]?
    func serviceAccountToken(namespace: String, name: String, audience: String?, expirationSeconds: Int64, podName: String, podUID: String) async throws -> String
    /// A PersistentVolumeClaim's UID, or nil when the claim does not exist.
    func claimUID(namespace: String, name: String) async throws -> String?
    /// The Services of a namespace (for the service-link variables).
    func services(namespace: String) async throws -> [JSONValue]
}

struct APIClusterReader: ClusterReader {
    let client: RESTClient

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func data(kind: String, namespace: String, name: String) async throws -> [String: [UInt8]]? {
        let resource = kind == "Secret" ? "secrets" : "configmaps"
        let response = try await client.request(.GET, "/api/v1/namespaces/\(namespace)/\(resource)/\(name)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw Failure(description: "get \(resource) \(namespace)/\(name): HTTP \(response.status)") }
        let object = response.json
        var result: [String: [UInt8]] = [:]
        for (key, value) in object["data"].objectValue ?? [:] {
            guard let text = value.stringValue else { continue }
            result[key] = kind == "Secret" ? (Base64.decode(text) ?? []) : Array(text.utf8)
        }
        for (key, value) in object["binaryData"].objectValue ?? [:] {
            if let text = value.stringValue, let bytes = Base64.decode(text) { result[key] = bytes }
        }
        return result
    }

    func services(namespace: String) async throws -> [JSONValue] {
        let response = try await client.request(.GET, "/api/v1/namespaces/\(namespace)/services")
        guard response.status == 200 else { throw Failure(description: "list services in \(namespace): HTTP \(response.status)") }
        return response.json["items"].arrayValue ?? []
    }

    func claimUID(namespace: String, name: String) async throws -> String? {
        let response = try await client.request(.GET, "/api/v1/namespaces/\(namespace)/persistentvolumeclaims/\(name)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw Failure(description: "get persistentvolumeclaims \(namespace)/\(name): HTTP \(response.status)") }
        return response.json["metadata"]["uid"].stringValue
    }

    func serviceAccountToken(namespace: String, name: String, audience: String?, expirationSeconds: Int64, podName: String, podUID: String) async throws -> String {
        var spec: JSONValue = ["expirationSeconds": .int(expirationSeconds),
                               "boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": .string(podName), "uid": .string(podUID)]]
        if let audience { spec["audiences"] = [.string(audience)] }
        let body: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec]
        let response = try await client.request(.POST, "/api/v1/namespaces/\(namespace)/serviceaccounts/\(name)/token", body: body)
        guard response.status == 201 || response.status == 200, let token = response.json["status"]["token"].stringValue else {
            throw Failure(description: "token for serviceaccount \(namespace)/\(name): HTTP \(response.status)")
        }
        return token
    }
}
