import Foundation
import Hummingbird
import TugAPI
import TugAPIMachinery
import TugAuth
import TugRegistry
import TugStorage

extension APIServer {
    func handleSubresource(_ request: Request, sub: String, name: String, namespace: String, definition d: ResourceDefinition,
                           query: QueryParameters, user: UserInfo?) async throws -> Response {
        let view = ObjectView(definition: d, storage: store.scheme.storageDefinition(for: d))
        switch (sub, request.method) {
        case ("status", .get):
            return render(request, view: view, objects: [try store.getObject(d, namespace: namespace, name: name)], single: true, query: query)
        case ("status", .put):
            return try await update(request, view: view, namespace: namespace, name: name, query: query, target: .status, user: user)
        case ("status", .patch):
            return try await patch(request, view: view, namespace: namespace, name: name, query: query, target: .status, user: user)
        case ("scale", .get), ("scale", .put), ("scale", .patch):
            return try await scale(request, definition: d, namespace: namespace, name: name, query: query, user: user)
        case ("binding", .post):
            return try await bind(request, definition: d, namespace: namespace, name: name, query: query)
        case ("token", .post):
            return try await issueToken(request, definition: d, namespace: namespace, name: name, query: query)
        case ("approval", .get):
            return render(request, view: view, objects: [try store.getObject(d, namespace: namespace, name: name)], single: true, query: query)
        case ("approval", .put):
            return try await approve(request, definition: d, name: name, query: query, user: user)
        case ("finalize", .put):
            return try await finalizeNamespace(request, definition: d, name: name, query: query)
        case ("log", .get):
            return try await podLog(pod: try store.getObject(d, namespace: namespace, name: name), definition: d, query: query)
        case ("exec", .get), ("exec", .post), ("attach", .get), ("attach", .post):
            // Reached only when the WebSocket upgrade did not happen: report what was wrong with the request.
            let pod = try store.getObject(d, namespace: namespace, name: name)
            _ = try Self.container(of: pod, requested: query["container"])
            _ = try nodeOf(pod)
            if sub == "exec", query.values["command"]?.isEmpty ?? true {
                throw StatusError.badRequest("you must specify at least 1 command")
            }
            throw StatusError.badRequest("Upgrade request required: pods/\(sub) speaks WebSocket (v5.channel.k8s.io or v4.channel.k8s.io)")
        case ("portforward", _):
            let pod = try store.getObject(d, namespace: namespace, name: name)
            guard let node = pod["spec"]["nodeName"].stringValue, !node.isEmpty else {
                throw StatusError.badRequest("pod \(name) does not have a host assigned")
            }
            throw StatusError.serviceUnavailable("no node agent is connected for node \"\(node)\"; pod \(sub) needs the node agent of the pod's node")
        default:
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// `autoscaling/v1 Scale` over `spec.replicas` of the parent.
    func scale(_ request: Request, definition d: ResourceDefinition, namespace: String, name: String, query: QueryParameters,
               user: UserInfo?) async throws -> Response {
        func scaleOf(_ object: JSONValue) -> JSONValue {
            let selector = (try? LabelSelector.from(object["spec"]["selector"]).description) ?? ""
            return ["kind": "Scale", "apiVersion": "autoscaling/v1",
                    "metadata": ["name": .string(object.name), "namespace": .string(object.namespace), "uid": .string(object.uid),
                                 "resourceVersion": .string(object.resourceVersion), "creationTimestamp": object["metadata"]["creationTimestamp"]],
                    "spec": ["replicas": .int(object["spec"]["replicas"].intValue ?? 0)],
                    "status": ["replicas": .int(object["status"]["replicas"].intValue ?? 0), "selector": .string(selector)]]
        }
        if request.method == .get { return Responses.json(scaleOf(try store.getObject(d, namespace: namespace, name: name))) }
        var req = request
        let body = try await collect(&req)
        let dry = try dryRun(query)
        // A write from elsewhere (a controller's status update) between the read and the write is not the
        // client's conflict: without a resourceVersion of its own, the change is re-applied to the newer object,
        // as kube-apiserver retries a patch.
        var attempt = 0
        while true {
            attempt += 1
            let current = try store.getObject(d, namespace: namespace, name: name)
            let desired = try desiredScale(request, body: body, base: scaleOf(current), query: query)
            if !desired.resourceVersion.isEmpty, desired.resourceVersion != current.resourceVersion {
                throw StatusError.conflict(d.groupResource, name: name)
            }
            guard let replicas = desired["spec"]["replicas"].intValue, replicas >= 0, replicas <= Int64(Int32.max) else {
                throw StatusError.invalid(kind: "Scale", group: "autoscaling", name: name,
                                          errors: FieldErrorList([FieldError(.invalid, field: "spec.replicas", value: desired["spec"]["replicas"], detail: "must be greater than or equal to 0")]))
            }
            var updated = current
            updated["spec"]["replicas"] = .int(replicas)
            let result: JSONValue
            do {
                result = try await store.update(d, namespace: namespace, name: name, object: updated, dryRun: dry, user: user)
            } catch {
                if error.reason == .conflict, attempt < 5, desired.resourceVersion.isEmpty { continue }
                throw error
            }
            return Responses.json(scaleOf(result))
        }
    }

    /// The Scale a PUT or PATCH asks for (a patch applies to `base`, the current Scale). A PUT's resourceVersion is
    /// kept (a precondition); a patch's is dropped unless it sets one.
    func desiredScale(_ request: Request, body: [UInt8], base: JSONValue, query: QueryParameters) throws -> JSONValue {
        if request.method == .put {
            return try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", target: .scale,
                                           validation: try BodyDecoding.validation(query)).object
        }
        let contentType = request.headers[.contentType] ?? ""
        guard let type = PatchType(contentType: contentType), type != .apply else { throw StatusError.unsupportedMediaType(contentType) }
        let patch = try ObjectStoreBridge.parse(body)
        var desired: JSONValue
        switch type {
        case .merge: desired = MergePatch.apply(patch, to: base)
        case .json:
            do { desired = try JSONPatch.apply(patch, to: base) } catch {
                if error.tooLarge { throw StatusError.entityTooLarge(error.description) }
                throw StatusError(code: 422, reason: .invalid, message: error.description)
            }
        default:
            do { desired = try StrategicMergePatch.apply(patch, to: base, schema: AppsSchemas.scale) } catch {
                throw StatusError(code: 422, reason: .invalid, message: error.description)
            }
        }
        if desired.resourceVersion == base.resourceVersion { desired["metadata"]["resourceVersion"] = .string("") }
        return desired
    }

    /// `pods/binding`: assigns a pending pod to a node, once.
    func bind(_ request: Request, definition d: ResourceDefinition, namespace: String, name: String, query: QueryParameters) async throws -> Response {
        var req = request
        let body = try await collect(&req)
        let binding = try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", target: .binding, validation: .ignore).object
        guard let node = binding["target"]["name"].stringValue, !node.isEmpty else {
            throw StatusError.invalid(kind: "Binding", group: "", name: name, errors: FieldErrorList([FieldError(.required, field: "target.name")]))
        }
        for _ in 0..<5 {
            let stored = try store.get(d, namespace: namespace, name: name)
            var pod = try store.decode(stored)
            if let existing = pod["spec"]["nodeName"].stringValue, !existing.isEmpty {
                throw StatusError.conflict(d.groupResource, name: name, "pod \(name) is already assigned to node \"\(existing)\"")
            }
            if pod.deletionTimestamp != nil { throw StatusError.conflict(d.groupResource, name: name, "pod \(name) is being deleted, cannot be assigned to a host") }
            pod["spec"]["nodeName"] = .string(node)
            var conditions = pod["status"]["conditions"].arrayValue ?? []
            conditions.removeAll { $0["type"] == "PodScheduled" }
            conditions.append(["type": "PodScheduled", "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(KubeTime.format(store.now))])
            pod["status"]["conditions"] = .array(conditions)
            if try await writeRetryingOnConflict(d, stored: stored, object: pod) {
                return Responses.json(["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201], status: .created)
            }
        }
        throw StatusError.conflict(d.groupResource, name: name)
    }

    /// `serviceaccounts/{name}/token`: a TokenRequest answered with a signed token (kubectl create token).
    func issueToken(_ request: Request, definition d: ResourceDefinition, namespace: String, name: String, query: QueryParameters) async throws -> Response {
        var req = request
        let body = try await collect(&req)
        var review = body.isEmpty ? .emptyObject
            : try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", target: .tokenRequest, validation: .ignore).object
        let account = try store.getObject(d, namespace: namespace, name: name)
        let seconds = review["spec"]["expirationSeconds"].intValue ?? 3600
        guard seconds >= 600, seconds <= 1 << 32 else {
            throw StatusError.invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: name, errors: FieldErrorList([
                FieldError(.invalid, field: "spec.expirationSeconds", value: .int(seconds), detail: "may not specify a duration less than 10 minutes"),
            ]))
        }
        let audiences = review["spec"]["audiences"].arrayValue?.compactMap(\.stringValue).ifEmpty([tokens.issuer]) ?? [tokens.issuer]
        let now = store.now
        let expires = now.addingTimeInterval(Double(seconds))
        var claims = ServiceAccountTokens.Claims(namespace: namespace, name: name, uid: account.uid, audiences: audiences, expires: expires)
        try bind(&claims, to: review["spec"]["boundObjectRef"], namespace: namespace)
        let token = try tokens.issue(claims, now: now)
        review.kind = "TokenRequest"
        review.apiVersion = "authentication.k8s.io/v1"
        review["metadata"] = ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(KubeTime.format(now))]
        review["spec"]["audiences"] = .array(audiences.map(JSONValue.string))
        review["spec"]["expirationSeconds"] = .int(seconds)
        review["status"] = ["token": .string(token), "expirationTimestamp": .string(KubeTime.format(expires))]
        return Responses.json(review, status: .created)
    }

    /// A TokenRequest's `boundObjectRef`: the pod (and so its node) or secret the token lives and dies with.
    func bind(_ claims: inout ServiceAccountTokens.Claims, to ref: JSONValue, namespace: String) throws {
        guard !ref.isNull, let kind = ref["kind"].stringValue else { return }
        guard kind == "Pod" || kind == "Secret", let name = ref["name"].stringValue, !name.isEmpty,
              let definition = store.scheme.resource(group: "", version: "v1", resource: kind == "Pod" ? "pods" : "secrets") else {
            throw StatusError.badRequest("cannot bind token to object of kind \(ref["kind"].stringValue ?? "") (Pod or Secret)")
        }
        let object = try store.getObject(definition, namespace: namespace, name: name)
        if let uid = ref["uid"].stringValue, !uid.isEmpty, uid != object.uid {
            throw StatusError.conflict(definition.groupResource, name: name)
        }
        claims.bound = .init(kind: kind, name: name, uid: object.uid)
        if kind == "Pod", let nodeName = object["spec"]["nodeName"].stringValue, !nodeName.isEmpty,
           let nodes = store.scheme.resource(group: "", version: "v1", resource: "nodes"), let node = try? store.getObject(nodes, namespace: "", name: nodeName) {
            claims.node = .init(kind: "Node", name: nodeName, uid: node.uid)
        }
    }

    /// `namespaces/{name}/finalize`: replaces `spec.finalizers`.
    func finalizeNamespace(_ request: Request, definition d: ResourceDefinition, name: String, query: QueryParameters) async throws -> Response {
        var req = request
        let body = try await collect(&req)
        let decoded = try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", definition: d, validation: .ignore).object
        let stored = try store.get(d, namespace: "", name: name)
        var ns = try store.decode(stored)
        ns["spec"]["finalizers"] = decoded["spec"]["finalizers"]
        return Responses.json(try await store.replaceUnchecked(d, stored: stored, object: ns))
    }
}

extension APIServer {
    /// True when written; false when the object changed underneath (the caller re-reads and retries).
    func writeRetryingOnConflict(_ d: ResourceDefinition, stored: TugStorage.StoredObject, object: JSONValue) async throws -> Bool {
        do {
            _ = try await store.replaceUnchecked(d, stored: stored, object: object)
            return true
        } catch {
            if error.reason == .conflict { return false }
            throw error
        }
    }
}

enum ObjectStoreBridge {
    static func parse(_ body: [UInt8]) throws(StatusError) -> JSONValue {
        do { return try JSONParser.parseValue(body) } catch { throw .badRequest("error decoding patch: \(error)") }
    }
}
