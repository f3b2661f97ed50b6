import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import TugAPI
import TugAPIMachinery
import TugAuth
import TugRegistry
import TugStorage

extension APIServer {
    func handleResource(_ request: Request, info: RequestInfo, definition: ResourceDefinition, query: QueryParameters,
                        connection: (any Channel)? = nil, flow: FlowRelease? = nil, user: UserInfo? = nil) async throws -> Response {
        let storage = store.scheme.storageDefinition(for: definition)
        let namespace = info.namespace ?? ""
        if definition.namespaced, info.name != nil, info.namespace == nil {
            throw StatusError.notFoundPath()
        }
        if !definition.namespaced, info.namespace != nil { throw StatusError.notFoundPath() }
        if let sub = info.subresource {
            guard definition.subresource(sub) != nil, let name = info.name else { throw StatusError.notFoundPath() }
            return try await handleSubresource(request, sub: sub, name: name, namespace: namespace, definition: definition, query: query, user: user)
        }
        let view = ObjectView(definition: definition, storage: storage)
        switch (request.method, info.name) {
        case (.get, nil):
            if query.bool("watch") { return try await watch(request, view: view, namespace: info.namespace, query: query, connection: connection, flow: flow) }
            return try list(request, view: view, namespace: info.namespace, query: query)
        case (.get, let name?):
            let object = view.present(try store.getObject(storage, namespace: namespace, name: name))
            return render(request, view: view, objects: [object], single: true, query: query)
        case (.post, nil):
            return try await create(request, view: view, namespace: namespace, query: query, user: user)
        case (.put, let name?):
            return try await update(request, view: view, namespace: namespace, name: name, query: query, target: .main, user: user)
        case (.patch, let name?):
            return try await patch(request, view: view, namespace: namespace, name: name, query: query, target: .main, user: user)
        case (.delete, let name?):
            return try await delete(request, view: view, namespace: namespace, name: name, query: query, user: user)
        case (.delete, nil):
            return try await deleteCollection(request, view: view, namespace: info.namespace, query: query, user: user)
        default:
            throw StatusError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    // MARK: Reads

    func selectors(_ query: QueryParameters, view: ObjectView) throws -> (LabelSelector, FieldSelector) {
        let labels = try Self.parseLabels(query["labelSelector"] ?? "")
        let fields = try Self.parseFields(query["fieldSelector"] ?? "")
        let known = Set(["metadata.name", "metadata.namespace"]).union(view.storage.strategy.selectableFields(.emptyObject).keys)
        for r in fields.requirements where !known.contains(r.field) {
            throw StatusError.badRequest("\"\(r.field)\" is not a known field selector: only \"\(known.sorted().joined(separator: "\", \""))\"")
        }
        return (labels, fields)
    }

    static func parseLabels(_ text: String) throws -> LabelSelector {
        do { return try LabelSelector.parse(text) } catch { throw StatusError.badRequest("unable to parse requirement: \(error.description)") }
    }

    static func parseFields(_ text: String) throws -> FieldSelector {
        do { return try FieldSelector.parse(text) } catch { throw StatusError.badRequest(error.description) }
    }

    func list(_ request: Request, view: ObjectView, namespace: String?, query: QueryParameters) throws -> Response {
        // Every list is served from the newest state, which satisfies any resourceVersion it may name.
        _ = try ListOptions(query, watch: false)
        let (labels, fields) = try selectors(query, view: view)
        var limit: Int?
        if let l = try query.integer("limit"), l > 0 { limit = Int(l) }
        let result = try store.list(view.storage, namespace: namespace, labels: labels, fields: fields, limit: limit, continueToken: query["continue"])
        let accept = request.headers[.accept] ?? ""
        if TableRenderer.wanted(accept) {
            let objects = try result.items.map { view.present(try store.decode($0)) }
            let include = TableRenderer.IncludeObject(rawValue: query["includeObject"] ?? "") ?? .metadata
            return Responses.json(TableRenderer.table(view.definition, objects: objects, resourceVersion: String(result.revision),
                                                      continueToken: result.continueToken, include: include, now: store.now),
                                  contentType: TableRenderer.contentType)
        }
        // The list body is streamed from stored bytes: no object is decoded or re-encoded (unless served in another
        // version), and no second copy of the whole list is built.
        var head = Array("{\"apiVersion\":".utf8)
        JSONWriter.writeString(view.definition.groupVersion, into: &head)
        head += Array(",\"items\":[".utf8)
        var tail = Array("],\"kind\":".utf8)
        JSONWriter.writeString(view.definition.listKind, into: &tail)
        var meta: JSONValue = ["resourceVersion": .string(String(result.revision))]
        if let c = result.continueToken { meta["continue"] = .string(c) }
        if let r = result.remaining { meta["remainingItemCount"] = .int(r) }
        tail += Array(",\"metadata\":".utf8)
        JSONWriter.write(meta, into: &tail)
        tail.append(UInt8(ascii: "}"))
        let objects = self.store
        let convert: (@Sendable (StoredObject) throws -> [UInt8])? = view.converts ? { @Sendable item in JSONWriter.bytes(view.present(try objects.decode(item))) } : nil
        return ListBody.response(head: head, items: result.items, tail: tail, convert: convert)
    }

    func render(_ request: Request, view: ObjectView, objects: [JSONValue], single: Bool, query: QueryParameters,
                status: HTTPResponse.Status = .ok, warnings: [String] = []) -> Response {
        let accept = request.headers[.accept] ?? ""
        if TableRenderer.wanted(accept), let first = objects.first {
            let include = TableRenderer.IncludeObject(rawValue: query["includeObject"] ?? "") ?? .metadata
            return Responses.json(TableRenderer.table(view.definition, objects: objects, resourceVersion: first.resourceVersion, include: include, now: store.now),
                                  status: status, contentType: TableRenderer.contentType, headers: Responses.warnings(warnings))
        }
        return Responses.json(objects.first ?? .emptyObject, status: status, headers: Responses.warnings(warnings))
    }

    // MARK: Writes

    func dryRun(_ query: QueryParameters) throws(StatusError) -> Bool {
        guard let values = query.values["dryRun"] else { return false }
        for v in values where v != "All" && !v.isEmpty {
            throw .badRequest("dryRun values must be one of [All], got \(v)")
        }
        return values.contains("All")
    }

    func decodeBody(_ request: Request, view: ObjectView, query: QueryParameters) async throws -> BodyDecoding.Decoded {
        var req = request
        let body = try await collect(&req)
        var decoded = try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", definition: view.definition,
                                              validation: try BodyDecoding.validation(query))
        AuditRequestObject.record(decoded.object)
        decoded.object = view.toStorage(decoded.object)
        return decoded
    }

    func create(_ request: Request, view: ObjectView, namespace: String, query: QueryParameters, user: UserInfo?) async throws -> Response {
        let decoded = try await decodeBody(request, view: view, query: query)
        let created = try await store.create(view.storage, namespace: namespace, object: decoded.object, dryRun: try dryRun(query), user: user)
        return render(request, view: view, objects: [view.present(created)], single: true, query: query, status: .created, warnings: decoded.warnings)
    }

    func update(_ request: Request, view: ObjectView, namespace: String, name: String, query: QueryParameters, target: ObjectStore.UpdateTarget,
                user: UserInfo?) async throws -> Response {
        let decoded = try await decodeBody(request, view: view, query: query)
        if !decoded.object.name.isEmpty, decoded.object.name != name {
            throw StatusError.badRequest("the name of the object (\(decoded.object.name)) does not match the name on the URL (\(name))")
        }
        let updated = try await store.update(view.storage, namespace: namespace, name: name, object: decoded.object, target: target, dryRun: try dryRun(query),
                                             user: user)
        return render(request, view: view, objects: [view.present(updated)], single: true, query: query, warnings: decoded.warnings)
    }

    func patch(_ request: Request, view: ObjectView, namespace: String, name: String, query: QueryParameters, target: ObjectStore.UpdateTarget,
               user: UserInfo?) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        guard let type = PatchType(contentType: contentType) else { throw StatusError.unsupportedMediaType(contentType) }
        if type == .apply, (query["fieldManager"] ?? "").isEmpty {
            throw StatusError(code: 422, reason: .invalid, message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                              details: .init(group: "meta.k8s.io", kind: "PatchOptions", causes: [.init(reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager")]))
        }
        var req = request
        let body = try await collect(&req)
        if view.converts { throw StatusError.unsupportedMediaType("\(contentType) for \(view.definition.groupVersion) \(view.definition.kind)") }
        let (result, created) = try await store.patch(view.storage, namespace: namespace, name: name, type: type, body: body, target: target,
                                                      fieldManager: query["fieldManager"] ?? "", force: query.bool("force"), dryRun: try dryRun(query),
                                                      user: user)
        return render(request, view: view, objects: [view.present(result)], single: true, query: query, status: created ? .created : .ok)
    }

    func deleteOptions(_ request: Request, view: ObjectView, query: QueryParameters) async throws -> ObjectStore.DeleteOptions {
        var req = request
        let body = try await collect(&req)
        var json: JSONValue = .emptyObject
        if !body.isEmpty {
            json = try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", target: .deleteOptions, validation: .ignore).object
        }
        if let g = try query.integer("gracePeriodSeconds", in: Int64.min...Int64.max) { json["gracePeriodSeconds"] = .int(g) }
        if let p = query["propagationPolicy"] { json["propagationPolicy"] = .string(p) }
        var options = try ObjectStore.DeleteOptions(json: json)
        let queryDryRun = try dryRun(query)
        options.dryRun = options.dryRun || queryDryRun
        return options
    }

    func delete(_ request: Request, view: ObjectView, namespace: String, name: String, query: QueryParameters, user: UserInfo?) async throws -> Response {
        var options = try await deleteOptions(request, view: view, query: query)
        options.user = user
        switch try await store.delete(view.storage, namespace: namespace, name: name, options: options) {
        case .deleted(let object), .pending(let object):
            return Responses.json(view.present(object))
        }
    }

    func deleteCollection(_ request: Request, view: ObjectView, namespace: String?, query: QueryParameters, user: UserInfo?) async throws -> Response {
        var options = try await deleteOptions(request, view: view, query: query)
        options.user = user
        let (labels, fields) = try selectors(query, view: view)
        let result = try store.list(view.storage, namespace: namespace, labels: labels, fields: fields)
        var items: [JSONValue] = []
        for stored in result.items {
            let object = try store.decode(stored)
            if let outcome = try await deleteIfPresent(view, object: object, options: options) {
                switch outcome {
                case .deleted(let o), .pending(let o): items.append(view.present(o))
                }
            }
        }
        return Responses.json(["kind": .string(view.definition.listKind), "apiVersion": .string(view.definition.groupVersion),
                               "metadata": ["resourceVersion": .string(String(store.backend.currentRevision))], "items": .array(items)])
    }
}

extension APIServer {
    /// Deletes an object listed a moment ago; nil when something else deleted it first.
    func deleteIfPresent(_ view: ObjectView, object: JSONValue, options: ObjectStore.DeleteOptions) async throws -> ObjectStore.DeleteOutcome? {
        do {
            return try await store.delete(view.storage, namespace: object.namespace, name: object.name, options: options)
        } catch {
            if error.reason == .notFound { return nil }
            throw error
        }
    }
}

/// How a served resource maps onto its storage: identity for most, a conversion for events.k8s.io events.
struct ObjectView {
    let definition: ResourceDefinition
    let storage: ResourceDefinition

    var converts: Bool { definition.group != storage.group || definition.version != storage.version }

    /// Stored form → what this endpoint serves.
    func present(_ object: JSONValue) -> JSONValue {
        guard converts else { return object }
        var out = EventConversion.toEventsV1(object)
        out.kind = definition.kind
        out.apiVersion = definition.groupVersion
        return out
    }

    /// Request form → stored form.
    func toStorage(_ object: JSONValue) -> JSONValue {
        guard converts else { return object }
        return EventConversion.toCore(object)
    }
}
