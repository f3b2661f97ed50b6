import TugAPI
import TugAPIMachinery

/// OpenAPI v3 documents per group-version (and a v2 document), generated from the schemas.
///
/// Each kind gets a `components.schemas` entry (with `x-kubernetes-group-version-kind`, descriptions and patch
/// extensions, so `kubectl explain` works) and its paths (see OpenAPIPaths.swift), whose `patch` operation names
/// the GVK and the `fieldValidation` parameter — the check kubectl makes before it sends `fieldValidation=Strict`.
/// The patch body does not list the strategic-merge type: kubectl then computes SMPs from its compiled-in types.
struct OpenAPI {
    let scheme: Scheme

    /// `/openapi/v3`: index of group-version documents.
    func index(hash: String) -> JSONValue {
        var paths: JSONObject = [:]
        for gv in groupVersions {
            let key = gv.group.isEmpty ? "api/\(gv.version)" : "apis/\(gv.group)/\(gv.version)"
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash)")]
        }
        return ["paths": .object(paths)]
    }

    var groupVersions: [(group: String, version: String)] {
        scheme.groups.flatMap { g in g.versions.map { (g.group, $0) } }
    }

    func document(group: String, version: String) -> JSONValue? {
        let definitions = scheme.resources(group: group, version: version)
        guard !definitions.isEmpty else { return nil }
        var schemas: JSONObject = [:]
        var paths: JSONObject = [:]
        for d in definitions {
            collect(d.schema, into: &schemas, refPrefix: "#/components/schemas/")
            if var s = schemas[d.schema.name] {
                s["x-kubernetes-group-version-kind"] = [["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)]]
                schemas[d.schema.name] = s
            }
            paths.merge(self.paths(d, schemas: &schemas)) { a, _ in a }
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.4"],
                "paths": .object(paths), "components": ["schemas": .object(schemas)]]
    }

    /// `/openapi/v2` as JSON (kubectl asks for protobuf first and accepts JSON).
    func swagger() -> JSONValue {
        var definitions: JSONObject = [:]
        for d in scheme.definitions {
            collect(d.schema, into: &definitions, refPrefix: "#/definitions/")
            if var s = definitions[d.schema.name] {
                var gvks = s["x-kubernetes-group-version-kind"].arrayValue ?? []
                gvks.append(["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)])
                s["x-kubernetes-group-version-kind"] = .array(gvks)
                definitions[d.schema.name] = s
            }
        }
        return ["swagger": "2.0", "info": ["title": "Kubernetes", "version": "v1.32.4"], "paths": .emptyObject, "definitions": .object(definitions)]
    }

    func collect(_ schema: TypeSchema, into out: inout JSONObject, refPrefix: String) {
        if out[schema.name] != nil { return }
        out[schema.name] = .emptyObject
        var properties: JSONObject = [:]
        for (name, field) in schema.fields {
            var p = property(field.type, into: &out, refPrefix: refPrefix)
            if let description = field.description.isEmpty ? FieldDescriptions.common[name] : field.description {
                p["description"] = .string(description)
            }
            switch field.patch {
            case .mergeByKey(let key):
                p["x-kubernetes-patch-strategy"] = "merge"; p["x-kubernetes-patch-merge-key"] = .string(key)
            case .mergeByKeyRetainKeys(let key):
                p["x-kubernetes-patch-strategy"] = "merge,retainKeys"; p["x-kubernetes-patch-merge-key"] = .string(key)
            case .mergeSet: p["x-kubernetes-patch-strategy"] = "merge"
            case .retainKeys: p["x-kubernetes-patch-strategy"] = "retainKeys"
            case .replace: break
            }
            properties[name] = p
        }
        var s: JSONValue = ["type": "object", "properties": .object(properties)]
        if !schema.description.isEmpty { s["description"] = .string(schema.description) }
        if schema.preservesUnknownFields { s["x-kubernetes-preserve-unknown-fields"] = true }
        out[schema.name] = s
    }

    func property(_ type: FieldType, into out: inout JSONObject, refPrefix: String) -> JSONValue {
        switch type {
        case .string: return ["type": "string"]
        case .bytes: return ["type": "string", "format": "byte"]
        case .int32: return ["type": "integer", "format": "int32"]
        case .int64: return ["type": "integer", "format": "int64"]
        case .bool: return ["type": "boolean"]
        case .double: return ["type": "number", "format": "double"]
        case .quantity: return ["type": "string", "x-kubernetes-int-or-string": true]
        case .intOrString: return ["type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": true]
        case .time, .microTime: return ["type": "string", "format": "date-time"]
        case .any: return ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
        case .object(let s):
            collect(s, into: &out, refPrefix: refPrefix)
            return ["allOf": [["$ref": .string(refPrefix + s.name)]]]
        case .array(let element): return ["type": "array", "items": property(element, into: &out, refPrefix: refPrefix)]
        case .map(let value): return ["type": "object", "additionalProperties": property(value, into: &out, refPrefix: refPrefix)]
        }
    }
}
