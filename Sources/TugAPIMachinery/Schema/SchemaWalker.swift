/// Checks a decoded JSON object against its `TypeSchema`, as Go's typed decoding would.
///
/// - Type mismatches (`"replicas": "3"`) are errors in every mode: a typed decoder cannot hold them.
/// - Unknown fields of closed schemas are collected (reported under `fieldValidation=Strict`/`Warn`) and pruned,
///   since a typed object has nowhere to keep them.
/// - Quantities sent as numbers become strings (`cpu: 1` → `"1"`), as `resource.Quantity` does.
public enum SchemaWalker {
    public struct Result: Sendable {
        public var value: JSONValue
        public var unknownFields: [String] = []
        public var typeErrors: [FieldError] = []
    }

    public static func normalize(_ value: JSONValue, schema: TypeSchema) -> Result {
        var result = Result(value: .null)
        result.value = walkObject(value, schema: schema, path: "", result: &result)
        return result
    }

    static func walkObject(_ value: JSONValue, schema: TypeSchema, path: String, result: inout Result) -> JSONValue {
        guard case .object(let object) = value else {
            if value.isNull { return .null }
            result.typeErrors.append(FieldError(.typeInvalid, field: path, value: value, detail: "expected object, got \(value.typeName)"))
            return value
        }
        var out: JSONObject = [:]
        out.reserveCapacity(object.count)
        for (key, child) in object {
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            guard let field = schema.fields[key] else {
                if schema.preservesUnknownFields {
                    out[key] = child
                } else {
                    result.unknownFields.append(childPath)
                }
                continue
            }
            out[key] = walk(child, type: field.type, path: childPath, result: &result)
        }
        return .object(out)
    }

    static func walk(_ value: JSONValue, type: FieldType, path: String, result: inout Result) -> JSONValue {
        if value.isNull { return .null }
        func mismatch(_ expected: String) -> JSONValue {
            result.typeErrors.append(FieldError(.typeInvalid, field: path, value: value, detail: "must be of type \(expected)"))
            return value
        }
        switch type {
        case .string:
            return value.stringValue != nil ? value : mismatch("string")
        case .int32, .int64:
            guard let i = value.intValue else { return mismatch("integer") }
            if case .int32 = type, i < Int64(Int32.min) || i > Int64(Int32.max) { return mismatch("int32") }
            return .int(i)
        case .bool:
            return value.boolValue != nil ? value : mismatch("boolean")
        case .double:
            switch value {
            case .int, .double: return value
            default: return mismatch("number")
            }
        case .bytes:
            guard let s = value.stringValue else { return mismatch("string") }
            if Base64.decode(s) == nil {
                result.typeErrors.append(FieldError(.invalid, field: path, value: value, detail: "illegal base64 data"))
            }
            return value
        case .quantity:
            switch value {
            case .string(let s):
                if Quantity.parse(s) == nil {
                    result.typeErrors.append(FieldError(.invalid, field: path, value: value, detail: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
                }
                return value
            case .int(let i): return .string(String(i))
            case .double(let d): return .string(JSONWriter.string(.double(d)))
            default: return mismatch("string")
            }
        case .intOrString:
            switch value {
            case .string: return value
            case .int, .double: return value.intValue.map(JSONValue.int) ?? mismatch("integer or string")
            default: return mismatch("integer or string")
            }
        case .time, .microTime:
            guard let s = value.stringValue else { return mismatch("string") }
            if KubeTime.parse(s) == nil {
                result.typeErrors.append(FieldError(.invalid, field: path, value: value, detail: "must be an RFC3339 date-time"))
            }
            return value
        case .any:
            return value
        case .object(let schema):
            return walkObject(value, schema: schema, path: path, result: &result)
        case .array(let element):
            guard case .array(let items) = value else { return mismatch("array") }
            return .array(items.enumerated().map { walk($1, type: element, path: "\(path)[\($0)]", result: &result) })
        case .map(let valueType):
            guard case .object(let entries) = value else { return mismatch("object") }
            var out: JSONObject = [:]
            for (k, v) in entries { out[k] = walk(v, type: valueType, path: "\(path).\(k)", result: &result) }
            return .object(out)
        }
    }
}
