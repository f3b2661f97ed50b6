import TugAPI
import TugAPIMachinery

/// The paths of an OpenAPI v3 group-version document, as kube-apiserver publishes them: per resource its collection
/// (list, create, delete collection; for a namespaced kind also the list across namespaces), its item (read,
/// replace, patch, delete) and its status subresource, each with its path parameters (`namespace`, `name`) declared
/// required and the query parameters and bodies the verbs take.
extension OpenAPI {
    static let stringParameter: JSONValue = ["type": "string", "uniqueItems": true]

    static func query(_ name: String, _ description: String, type: String = "string") -> JSONValue {
        ["name": .string(name), "in": "query", "description": .string(description), "schema": ["type": .string(type), "uniqueItems": true]]
    }

    static func path(_ name: String, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "path", "required": true, "description": .string(description), "schema": stringParameter]
    }

    static let pretty = query("pretty", "If 'true', then the output is pretty printed.")
    static let writeParameters: [JSONValue] = [
        query("dryRun", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed"),
        query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
        query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict."),
    ]
    static let listParameters: [JSONValue] = [
        query("allowWatchBookmarks", "allowWatchBookmarks requests watch events with type \"BOOKMARK\".", type: "boolean"),
        query("continue", "The continue option should be set when retrieving more results from the server."),
        query("fieldSelector", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
        query("labelSelector", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
        query("limit", "limit is a maximum number of responses to return for a list call.", type: "integer"),
        query("resourceVersion", "resourceVersion sets a constraint on what resource versions a request may be served from."),
        query("resourceVersionMatch", "resourceVersionMatch determines how resourceVersion is applied to list calls."),
        query("timeoutSeconds", "Timeout for the list/watch call.", type: "integer"),
        query("watch", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.", type: "boolean"),
    ]
    static let deleteParameters: [JSONValue] = [
        query("dryRun", "When present, indicates that modifications should not be persisted."),
        query("gracePeriodSeconds", "The duration in seconds before the object should be deleted.", type: "integer"),
        query("propagationPolicy", "Whether and how garbage collection will be performed: Orphan, Background or Foreground."),
    ]
    static let patchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]

    /// Paths of one resource; adds the list and status schemas they refer to.
    func paths(_ d: ResourceDefinition, schemas: inout JSONObject) -> JSONObject {
        let gvk: JSONValue = ["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)]
        let ref: JSONValue = ["$ref": .string("#/components/schemas/\(d.schema.name)")]
        let listName = d.schema.name + "List"
        schemas[listName] = [
            "type": "object", "description": .string("\(d.kind)List is a list of \(d.kind) objects."), "required": ["items"],
            "properties": ["apiVersion": ["type": "string"], "kind": ["type": "string"],
                           "metadata": ["allOf": [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"]]],
                           "items": ["type": "array", "items": ref]],
            "x-kubernetes-group-version-kind": [["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind + "List")]],
        ]
        collect(MetaSchemas.listMeta, into: &schemas, refPrefix: "#/components/schemas/")
        collect(MetaSchemas.deleteOptions, into: &schemas, refPrefix: "#/components/schemas/")
        schemas[Self.statusSchemaName] = Self.statusSchema
        let listRef: JSONValue = ["$ref": .string("#/components/schemas/\(listName)")]
        let statusRef: JSONValue = ["$ref": .string("#/components/schemas/\(Self.statusSchemaName)")]

        func responses(_ codes: [String], _ schema: JSONValue) -> JSONValue {
            var out: JSONObject = ["401": ["description": "Unauthorized"]]
            for code in codes { out[code] = ["description": .string(code == "201" ? "Created" : code == "202" ? "Accepted" : "OK"), "content": Self.content(schema)] }
            return .object(out)
        }
        func operation(_ id: String, _ action: String, _ parameters: [JSONValue], body: JSONValue? = nil, _ responses: JSONValue) -> JSONValue {
            var op: JSONValue = ["operationId": .string(id), "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": .string(action),
                                 "tags": [.string(d.group.isEmpty ? "core_\(d.version)" : "\(d.group)_\(d.version)")], "responses": responses]
            if !parameters.isEmpty { op["parameters"] = .array(parameters) }
            if let body { op["requestBody"] = body }
            return op
        }
        let objectBody: JSONValue = ["required": true, "content": Self.content(ref)]
        let patchBody: JSONValue = ["required": true, "content": .object(JSONObject(Self.patchTypes.map {
            ($0, ["schema": ["type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."]] as JSONValue)
        }))]
        let deleteBody: JSONValue = ["content": Self.content(["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"])]

        let base = d.group.isEmpty ? "/api/\(d.version)" : "/apis/\(d.group)/\(d.version)"
        let scope = d.namespaced ? "Namespaced" : ""
        let namespace = Self.path("namespace", "object name and auth scope, such as for teams and projects")
        let name = Self.path("name", "name of the \(d.kind)")
        let collection = d.namespaced ? "\(base)/namespaces/{namespace}/\(d.resource)" : "\(base)/\(d.resource)"
        let collectionParameters: [JSONValue] = (d.namespaced ? [namespace] : []) + [Self.pretty]
        let itemParameters: [JSONValue] = [name] + collectionParameters
        var out: JSONObject = [:]

        var collectionOps: JSONObject = ["parameters": .array(collectionParameters)]
        if d.verbs.contains("list") { collectionOps["get"] = operation("list\(scope)\(d.kind)", "list", Self.listParameters, responses(["200"], listRef)) }
        if d.verbs.contains("create") {
            collectionOps["post"] = operation("create\(scope)\(d.kind)", "post", Self.writeParameters, body: objectBody, responses(["200", "201", "202"], ref))
        }
        if d.verbs.contains("deletecollection") {
            collectionOps["delete"] = operation("deletecollection\(scope)\(d.kind)", "deletecollection", Self.listParameters + Self.deleteParameters,
                                                body: deleteBody, responses(["200"], statusRef))
        }
        out[collection] = .object(collectionOps)
        if d.namespaced, d.verbs.contains("list") {
            out["\(base)/\(d.resource)"] = ["parameters": [Self.pretty],
                                           "get": operation("list\(d.kind)ForAllNamespaces", "list", Self.listParameters, responses(["200"], listRef))]
        }

        var itemOps: JSONObject = ["parameters": .array(itemParameters)]
        if d.verbs.contains("get") { itemOps["get"] = operation("read\(scope)\(d.kind)", "get", [], responses(["200"], ref)) }
        if d.verbs.contains("update") {
            itemOps["put"] = operation("replace\(scope)\(d.kind)", "put", Self.writeParameters, body: objectBody, responses(["200", "201"], ref))
        }
        if d.verbs.contains("patch") {
            itemOps["patch"] = operation("patch\(scope)\(d.kind)", "patch", Self.writeParameters + [Self.query("force", "Force is going to \"force\" Apply requests.", type: "boolean")],
                                         body: patchBody, responses(["200", "201"], ref))
        }
        if d.verbs.contains("delete") {
            itemOps["delete"] = operation("delete\(scope)\(d.kind)", "delete", Self.deleteParameters, body: deleteBody, responses(["200", "202"], statusRef))
        }
        out["\(collection)/{name}"] = .object(itemOps)

        if d.subresource("status") != nil {
            out["\(collection)/{name}/status"] = [
                "parameters": .array(itemParameters),
                "get": operation("read\(scope)\(d.kind)Status", "get", [], responses(["200"], ref)),
                "put": operation("replace\(scope)\(d.kind)Status", "put", Self.writeParameters, body: objectBody, responses(["200", "201"], ref)),
                "patch": operation("patch\(scope)\(d.kind)Status", "patch", Self.writeParameters, body: patchBody, responses(["200", "201"], ref)),
            ]
        }
        return out
    }

    static func content(_ schema: JSONValue) -> JSONValue {
        ["application/json": ["schema": schema], "application/yaml": ["schema": schema], "application/vnd.kubernetes.protobuf": ["schema": schema]]
    }

    static let statusSchemaName = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    static let statusSchema: JSONValue = [
        "type": "object", "description": "Status is a return value for calls that don't return other objects.",
        "properties": [
            "apiVersion": ["type": "string"], "kind": ["type": "string"], "code": ["type": "integer", "format": "int32"],
            "details": ["type": "object", "x-kubernetes-preserve-unknown-fields": true], "message": ["type": "string"],
            "metadata": ["allOf": [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"]]],
            "reason": ["type": "string"], "status": ["type": "string"],
        ],
        "x-kubernetes-group-version-kind": [["group": "", "version": "v1", "kind": "Status"]],
    ]
}
