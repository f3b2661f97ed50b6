/// Strategic merge patch, the server side of kubectl's `apply`, `set image`, `rollout restart` and `patch`.
///
/// Maps merge recursively and `null` deletes; lists are replaced unless the schema gives them a merge strategy, in
/// which case elements are matched by merge key (or as a set of primitives). The directives `$patch`
/// (merge/replace/delete), `$setElementOrder/<field>`, `$deleteFromPrimitiveList/<field>` and `$retainKeys` are
/// honoured and never stored.
public enum StrategicMergePatch {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func apply(_ patch: JSONValue, to original: JSONValue, schema: TypeSchema?) throws(Failure) -> JSONValue {
        guard case .object(let p) = patch else {
            throw Failure(description: "unable to unmarshal patch: expected a JSON object, got \(patch.typeName)")
        }
        let base: JSONObject
        if case .object(let o) = original { base = o } else { base = [:] }
        return try mergeMap(base, p, schema: schema, path: "") ?? .emptyObject
    }

    /// Returns nil when the patch deletes the whole map (`$patch: delete`).
    static func mergeMap(_ original: JSONObject, _ patch: JSONObject, schema: TypeSchema?, path: String) throws(Failure) -> JSONValue? {
        if let directive = patch["$patch"] {
            switch directive.stringValue {
            case "replace": return removeDirectives(.object(patch.filter { $0.key != "$patch" }))
            case "delete": return nil
            case "merge": break
            default: throw Failure(description: "unknown patch type: \(JSONWriter.string(directive)) in map: \(path)")
            }
        }
        var result = original
        if let retain = patch["$retainKeys"] {
            guard case .array(let keys) = retain else { throw Failure(description: "$retainKeys must be a list at \(path)") }
            let keep = Set(keys.compactMap(\.stringValue))
            result = result.filter { keep.contains($0.key) }
        }
        var orders: [(String, [JSONValue])] = []
        for (key, value) in patch {
            if key == "$patch" || key == "$retainKeys" { continue }
            if key.hasPrefix("$setElementOrder/") {
                guard case .array(let order) = value else { throw Failure(description: "\(key) must be a list") }
                orders.append((String(key.dropFirst("$setElementOrder/".count)), order))
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                guard case .array(let remove) = value else { throw Failure(description: "\(key) must be a list") }
                if case .array(let existing) = result[field] {
                    let filtered = existing.filter { !remove.contains($0) }
                    result[field] = filtered.isEmpty ? nil : .array(filtered)
                }
                continue
            }
            if key.hasPrefix("$") { throw Failure(description: "unknown directive \(key) at \(path)") }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if value.isNull { result.removeValue(forKey: key); continue }
            let field = schema?.fields[key]
            result[key] = try mergeValue(result[key], value, type: field?.type, strategy: field?.patch ?? .replace, path: childPath)
            if result[key] == nil { result.removeValue(forKey: key) }
        }
        for (field, order) in orders {
            if case .array(let list) = result[field] {
                let key = schema?.fields[field]?.patch.mergeKey
                result[field] = .array(reorder(list, by: order, mergeKey: key))
            }
        }
        return .object(result)
    }

    static func mergeValue(_ original: JSONValue?, _ patch: JSONValue, type: FieldType?, strategy: PatchStrategy, path: String) throws(Failure) -> JSONValue? {
        switch patch {
        case .object(let p):
            let childSchema: TypeSchema?
            switch type {
            case .object(let s): childSchema = s
            case .map(let valueType):
                // A map field: merge keys, each value by its own type.
                var base: JSONObject = original?.objectValue ?? [:]
                if p["$patch"]?.stringValue == "replace" { return removeDirectives(.object(p.filter { $0.key != "$patch" })) }
                for (k, v) in p where k != "$patch" {
                    if v.isNull { base.removeValue(forKey: k); continue }
                    base[k] = try mergeValue(base[k], v, type: valueType, strategy: .replace, path: "\(path).\(k)")
                }
                return .object(base)
            default: childSchema = nil
            }
            guard case .object(let o)? = original else {
                return try mergeMap([:], p, schema: childSchema, path: path)
            }
            return try mergeMap(o, p, schema: childSchema, path: path)
        case .array(let patchList):
            let elementType: FieldType?
            if case .array(let t) = type { elementType = t } else { elementType = nil }
            switch strategy {
            case .mergeByKey(let key), .mergeByKeyRetainKeys(let key):
                return try mergeKeyedList(original?.arrayValue ?? [], patchList, key: key, elementType: elementType, path: path)
            case .mergeSet:
                return mergePrimitiveList(original?.arrayValue ?? [], patchList)
            case .replace, .retainKeys:
                return removeDirectives(patch)
            }
        default:
            return patch
        }
    }

    static func mergeKeyedList(_ original: [JSONValue], _ patch: [JSONValue], key: String, elementType: FieldType?, path: String) throws(Failure) -> JSONValue {
        let elementSchema: TypeSchema?
        if case .object(let s)? = elementType { elementSchema = s } else { elementSchema = nil }
        if patch.contains(where: { $0["$patch"].stringValue == "replace" }) {
            return removeDirectives(.array(patch.filter { $0["$patch"].stringValue != "replace" }))
        }
        var result = original
        for element in patch {
            guard case .object(let e) = element else {
                // Primitive in a keyed list: treat as set member.
                if !result.contains(element) { result.append(element) }
                continue
            }
            let directive = e["$patch"]?.stringValue
            guard let keyValue = e[key] else {
                if directive == "delete" {
                    // `{"$patch":"delete"}` without a key deletes nothing identifiable.
                    continue
                }
                throw Failure(description: "map: \(JSONWriter.string(element)) does not contain declared merge key: \(key)")
            }
            let index = result.firstIndex { $0[key] == keyValue }
            if directive == "delete" {
                result.removeAll { $0[key] == keyValue }
                continue
            }
            if let index, case .object(let existing) = result[index] {
                if let merged = try mergeMap(existing, e, schema: elementSchema, path: "\(path)[\(key)=\(JSONWriter.string(keyValue))]") {
                    result[index] = merged
                } else {
                    result.remove(at: index)
                }
            } else {
                result.append(removeDirectives(element))
            }
        }
        return .array(result)
    }

    static func mergePrimitiveList(_ original: [JSONValue], _ patch: [JSONValue]) -> JSONValue {
        var result = original
        for value in patch where !result.contains(value) { result.append(value) }
        return .array(result)
    }

    /// `$setElementOrder`: elements named by the order come first, in that order; the rest keep their order.
    static func reorder(_ list: [JSONValue], by order: [JSONValue], mergeKey: String?) -> [JSONValue] {
        func identity(_ v: JSONValue) -> JSONValue { mergeKey.map { v[$0] } ?? v }
        var remaining = list
        var ordered: [JSONValue] = []
        for entry in order {
            let id = mergeKey.map { entry[$0] } ?? entry
            if let i = remaining.firstIndex(where: { identity($0) == id }) {
                ordered.append(remaining.remove(at: i))
            }
        }
        return ordered + remaining
    }

    /// Strips every `$`-directive from a value that is being inserted rather than merged.
    public static func removeDirectives(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: JSONObject = [:]
            for (k, v) in o where !k.hasPrefix("$") { out[k] = removeDirectives(v) }
            return .object(out)
        case .array(let a):
            return .array(a.filter { $0["$patch"].stringValue != "delete" }.map(removeDirectives))
        default:
            return value
        }
    }
}
