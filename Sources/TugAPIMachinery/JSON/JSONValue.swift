/// A JSON document as a value: the one representation of raw Kubernetes objects, patches and wire bodies.
///
/// Integers and floating-point numbers are kept apart so that `replicas: 3` round-trips as `3`, never `3.0`.
/// Object keys are unordered; the writer emits them sorted, which makes encodings canonical and comparable.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static let emptyObject = JSONValue.object(JSONObject())
}

extension JSONValue {
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// Integer value; accepts a float with no fractional part (YAML and Python sometimes send `3.0`).
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    /// The JSON type name used in validation messages (`must be of type integer`).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Member access that yields `.null` for anything missing, so paths can be chained: `obj["spec"]["replicas"]`.
    /// Setting `.null` removes the member. Writes happen in place: the object is taken out of `self` while it is
    /// changed, so a nested write (`obj["spec"]["replicas"] = 3`) copies no dictionary along the path.
    public subscript(key: String) -> JSONValue {
        get {
            if case .object(let o) = self, let v = o[key] { return v }
            return .null
        }
        _modify {
            guard case .object(var o) = self else {
                var value = JSONValue.null
                defer { if !value.isNull { self = .object([key: value]) } }
                yield &value
                return
            }
            self = .null
            defer {
                if case .null? = o[key] { o.removeValue(forKey: key) }
                self = .object(o)
            }
            yield &o[key, default: .null]
        }
    }

    public subscript(index: Int) -> JSONValue {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return .null
    }

    /// Walks a dotted path of object keys.
    public func value(at path: [String]) -> JSONValue {
        var current = self
        for key in path { current = current[key] }
        return current
    }

    /// An empty object or array counts as absent (Go's `omitempty`).
    public var isEmptyCollection: Bool {
        switch self {
        case .object(let o): return o.isEmpty
        case .array(let a): return a.isEmpty
        case .null: return true
        default: return false
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue {
    /// A string map (labels, annotations, nodeSelector); non-string values are skipped.
    public var stringMap: [String: String] {
        guard case .object(let o) = self else { return [:] }
        var out: [String: String] = [:]
        out.reserveCapacity(o.count)
        for (k, v) in o { if case .string(let s) = v { out[k] = s } }
        return out
    }

    public init(stringMap: [String: String]) {
        self = .object(JSONObject(stringMap.lazy.map { ($0.key, JSONValue.string($0.value)) }))
    }
}
