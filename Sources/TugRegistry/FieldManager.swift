import Foundation
import TugAPIMachinery

/// Server-side apply field ownership, in the `managedFields` FieldsV1 format.
///
/// Each apply manager's entry records the fields its last applied configuration set (`f:<name>` for fields,
/// `k:{"name":"x"}` for elements of keyed lists, `v:<json>` for set members). Applying again removes the fields the
/// manager set before but no longer sets, then merges the new configuration, as Kubernetes does. Setting a field that
/// another apply manager owns to a different value is a conflict (409) unless the apply is forced, which moves the
/// field to the new manager. Fields written by non-apply operations are not tracked.
enum FieldManager {
    /// Identity and system fields that never count as applied fields.
    static let ignoredMetadata: Set<String> = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                                               "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"]

    /// The FieldsV1 set of an applied configuration.
    static func fieldSet(of applied: JSONValue, schema: TypeSchema?) -> JSONValue {
        guard case .object(let object) = applied else { return .emptyObject }
        var out: JSONObject = [:]
        for (key, value) in object where key != "apiVersion" && key != "kind" {
            if key == "metadata" {
                guard case .object(let meta) = value else { continue }
                var m: JSONObject = [:]
                for (mk, mv) in meta where !ignoredMetadata.contains(mk) {
                    m["f:" + mk] = fields(of: mv, type: schema?.fields["metadata"].flatMap { fieldType(in: $0, mk) }, strategy: .replace)
                }
                if !m.isEmpty { out["f:metadata"] = .object(m) }
                continue
            }
            let field = schema?.fields[key]
            out["f:" + key] = fields(of: value, type: field?.type, strategy: field?.patch ?? .replace)
        }
        return .object(out)
    }

    static func fieldType(in field: Field, _ name: String) -> FieldType? {
        if case .object(let s) = field.type { return s.fields[name]?.type }
        return nil
    }

    static func fields(of value: JSONValue, type: FieldType?, strategy: PatchStrategy) -> JSONValue {
        switch value {
        case .object(let object):
            var out: JSONObject = [:]
            let schema: TypeSchema?
            var valueType: FieldType?
            switch type {
            case .object(let s): schema = s
            case .map(let v): schema = nil; valueType = v
            default: schema = nil
            }
            for (k, v) in object {
                let child = schema?.fields[k]
                out["f:" + k] = fields(of: v, type: child?.type ?? valueType, strategy: child?.patch ?? .replace)
            }
            return .object(out)
        case .array(let items):
            var elementType: FieldType?
            if case .array(let t) = type { elementType = t }
            switch strategy {
            case .mergeByKey(let key), .mergeByKeyRetainKeys(let key):
                var out: JSONObject = [:]
                for item in items {
                    guard let id = item[key] as JSONValue?, !id.isNull else { continue }
                    var element = fields(of: item, type: elementType, strategy: .replace).objectValue ?? [:]
                    element["."] = .emptyObject
                    out["k:" + JSONWriter.string([key: id])] = .object(element)
                }
                return .object(out)
            case .mergeSet:
                return .object(JSONObject(items.map { ("v:" + JSONWriter.string($0), JSONValue.emptyObject) }))
            default:
                return .emptyObject
            }
        default:
            return .emptyObject
        }
    }

    /// Paths present in `previous` but not in `current` (each path ends at the first missing key).
    static func removed(from previous: JSONValue, to current: JSONValue) -> [[String]] {
        guard case .object(let p) = previous else { return [] }
        let c = current.objectValue ?? [:]
        var out: [[String]] = []
        for (key, child) in p where key != "." {
            if let next = c[key] {
                out += removed(from: child, to: next).map { [key] + $0 }
            } else {
                out.append([key])
            }
        }
        return out
    }

    /// Removes one FieldsV1 path from an object.
    static func remove(_ path: ArraySlice<String>, from value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        let rest = path.dropFirst()
        if first.hasPrefix("f:"), case .object(var object) = value {
            let name = String(first.dropFirst(2))
            guard let child = object[name] else { return value }
            if rest.isEmpty { object.removeValue(forKey: name) } else { object[name] = remove(rest, from: child) }
            return .object(object)
        }
        if case .array(var items) = value {
            let matches: (JSONValue) -> Bool
            if first.hasPrefix("k:"), let key = try? JSONParser.parseValue(String(first.dropFirst(2))), case .object(let fields) = key {
                matches = { item in fields.allSatisfy { item[$0.key] == $0.value } }
            } else if first.hasPrefix("v:"), let member = try? JSONParser.parseValue(String(first.dropFirst(2))) {
                matches = { $0 == member }
            } else {
                return value
            }
            if rest.isEmpty {
                items.removeAll(where: matches)
            } else if let i = items.firstIndex(where: matches) {
                items[i] = remove(rest, from: items[i])
            }
            return .array(items)
        }
        return value
    }

    /// Applies `applied` for `manager` onto `live`: drops what the manager no longer sets, merges the rest, and records
    /// the manager's new field set.
    static func apply(_ applied: JSONValue, to live: JSONValue, manager: String, apiVersion: String, schema: TypeSchema,
                      force: Bool = false, now: Date) throws(StatusError) -> JSONValue {
        var entries = live["metadata"]["managedFields"].arrayValue ?? []
        let current = fieldSet(of: applied, schema: schema)
        var conflicts: [(manager: String, apiVersion: String, path: [String])] = []
        for (i, entry) in entries.enumerated() where entry["manager"].stringValue != manager && entry["operation"] == "Apply" {
            let shared = Set(leafPaths(current)).intersection(leafPaths(entry["fieldsV1"]))
            let differing = shared.filter { value(at: $0[...], in: live) != value(at: $0[...], in: applied) }.sorted { $0.lexicographicallyPrecedes($1) }
            guard !differing.isEmpty else { continue }
            if force {
                var fields = entry["fieldsV1"]
                for path in differing { fields = removeFromSet(path[...], fields) }
                entries[i]["fieldsV1"] = fields
            } else {
                conflicts += differing.map { (entry["manager"].stringValue ?? "", entry["apiVersion"].stringValue ?? "", $0) }
            }
        }
        if !conflicts.isEmpty { throw conflictError(conflicts) }
        let index = entries.firstIndex { $0["manager"].stringValue == manager && $0["operation"] == "Apply" }
        let previous = index.map { entries[$0]["fieldsV1"] } ?? .emptyObject
        var result = live
        for path in removed(from: previous, to: current) {
            result = remove(path[...], from: result)
        }
        do {
            result = try StrategicMergePatch.apply(applied, to: result, schema: schema)
        } catch {
            throw StatusError(code: 422, reason: .invalid, message: error.description)
        }
        let entry: JSONValue = ["manager": .string(manager), "operation": "Apply", "apiVersion": .string(apiVersion),
                                "time": .string(KubeTime.format(now)), "fieldsType": "FieldsV1", "fieldsV1": current]
        if let index { entries[index] = entry } else { entries.append(entry) }
        result["metadata"]["managedFields"] = .array(entries)
        return result
    }

    /// Removes a path from a field set (keys are matched literally), dropping parents left empty.
    static func removeFromSet(_ path: ArraySlice<String>, _ set: JSONValue) -> JSONValue {
        guard let first = path.first, case .object(var children) = set, let child = children[first] else { return set }
        if path.count == 1 {
            children.removeValue(forKey: first)
        } else {
            let pruned = removeFromSet(path.dropFirst(), child)
            if pruned.objectValue?.keys.allSatisfy({ $0 == "." }) ?? true { children.removeValue(forKey: first) } else { children[first] = pruned }
        }
        return .object(children)
    }

    /// Paths to the leaves of a field set (a field with nothing below it; `.` marks are not leaves).
    static func leafPaths(_ set: JSONValue) -> [[String]] {
        guard case .object(let children) = set else { return [] }
        var out: [[String]] = []
        for (key, child) in children where key != "." {
            let below = leafPaths(child)
            if below.isEmpty { out.append([key]) } else { out += below.map { [key] + $0 } }
        }
        return out
    }

    /// The value a FieldsV1 path names in an object (null when absent).
    static func value(at path: ArraySlice<String>, in object: JSONValue) -> JSONValue {
        guard let first = path.first else { return object }
        if first.hasPrefix("f:") { return value(at: path.dropFirst(), in: object[String(first.dropFirst(2))]) }
        guard case .array(let items) = object else { return .null }
        if first.hasPrefix("k:"), case .object(let key)? = try? JSONParser.parseValue(String(first.dropFirst(2))) {
            return items.first { item in key.allSatisfy { item[$0.key] == $0.value } }.map { value(at: path.dropFirst(), in: $0) } ?? .null
        }
        if first.hasPrefix("v:"), let member = try? JSONParser.parseValue(String(first.dropFirst(2))) {
            return items.contains(member) ? member : .null
        }
        return .null
    }

    /// `.spec.template.spec.containers[name="nginx"].image`, as conflict messages print paths.
    static func display(_ path: [String]) -> String {
        path.map { part -> String in
            if part.hasPrefix("f:") { return "." + part.dropFirst(2) }
            if part.hasPrefix("k:"), case .object(let key)? = try? JSONParser.parseValue(String(part.dropFirst(2))) {
                return "[" + key.keys.sorted().map { "\($0)=\(JSONWriter.string(key[$0] ?? .null))" }.joined(separator: ",") + "]"
            }
            return "[" + part.dropFirst(2) + "]"
        }.joined()
    }

    static func conflictError(_ conflicts: [(manager: String, apiVersion: String, path: [String])]) -> StatusError {
        let lines = conflicts.map { "- conflict with \"\($0.manager)\" using \($0.apiVersion): \(display($0.path))" }
        let message = conflicts.count == 1
            ? "Apply failed with 1 conflict: conflict with \"\(conflicts[0].manager)\" using \(conflicts[0].apiVersion): \(display(conflicts[0].path))"
            : "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
        return StatusError(code: 409, reason: .conflict, message: message, details: .init(causes: conflicts.map {
            .init(reason: "FieldManagerConflict", message: "conflict with \"\($0.manager)\" using \($0.apiVersion)", field: display($0.path))
        }))
    }

    /// The managedFields of an object created by apply.
    static func created(_ applied: JSONValue, manager: String, apiVersion: String, schema: TypeSchema, now: Date) -> JSONValue {
        [["manager": .string(manager), "operation": "Apply", "apiVersion": .string(apiVersion), "time": .string(KubeTime.format(now)),
          "fieldsType": "FieldsV1", "fieldsV1": fieldSet(of: applied, schema: schema)]]
    }
}
