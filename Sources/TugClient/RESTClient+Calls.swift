public import NIOHTTP1
public import TugAPIMachinery

/// Calls that treat anything but 2xx as a failure: the server's Status comes back as a thrown `StatusError`, so
/// callers test `.reason` (notFound, conflict, alreadyExists…), never message text.
extension RESTClient {
    @discardableResult
    public func send(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, contentType: String = "application/json") async throws -> JSONValue {
        let response = try await request(method, path, body: body, contentType: contentType)
        guard (200..<300).contains(response.status) else { throw StatusError(response: response.json, code: response.status) }
        return response.json
    }

    @discardableResult
    public func create(_ collectionPath: String, _ object: JSONValue) async throws -> JSONValue {
        try await send(.POST, collectionPath, body: object)
    }

    @discardableResult
    public func mergePatch(_ path: String, _ patch: JSONValue) async throws -> JSONValue {
        try await send(.PATCH, path, body: patch, contentType: "application/merge-patch+json")
    }

    @discardableResult
    public func update(_ path: String, _ object: JSONValue) async throws -> JSONValue {
        try await send(.PUT, path, body: object)
    }

    /// Deletes with a propagation policy and, optionally, a UID precondition (so a newer object of the same name is
    /// never deleted by mistake). A missing object is not an error.
    public func delete(_ path: String, propagationPolicy: String? = nil, uid: String? = nil) async throws {
        var options: JSONValue = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagationPolicy { options["propagationPolicy"] = .string(propagationPolicy) }
        if let uid { options["preconditions"] = ["uid": .string(uid)] }
        do {
            try await send(.DELETE, path, body: options)
        } catch let error as StatusError where error.reason == .notFound {
            return
        }
    }
}
