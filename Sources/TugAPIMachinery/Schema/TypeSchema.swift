/// The declared shape of an API type: field names, wire types, protobuf field numbers and patch strategies.
///
/// One declaration per Kubernetes type drives strict decoding (unknown fields), strategic merge patch (merge keys),
/// protobuf request decoding (field numbers from k8s.io/api `generated.proto`) and the OpenAPI documents.
/// A schema with `preservesUnknownFields` accepts and keeps fields it does not declare.
public final class TypeSchema: Sendable {
    public let name: String
    public let description: String
    public let fields: [String: Field]
    public let preservesUnknownFields: Bool

    public init(_ name: String, description: String = "", open: Bool = false, _ fields: [Field]) {
        self.name = name
        self.description = description
        self.preservesUnknownFields = open
        self.fields = Dictionary(fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func field(proto number: Int) -> Field? {
        fields.values.first { $0.proto == number }
    }

    /// A schema that accepts any object (used where a type is not yet declared).
    public static let anyObject = TypeSchema("object", open: true, [])
}

public struct Field: Sendable {
    public var name: String
    public var type: FieldType
    /// Protobuf field number; 0 when the field has no protobuf form.
    public var proto: Int
    public var patch: PatchStrategy
    /// A Go pointer field (`*int32`, `*bool`): an explicit zero on the protobuf wire is a value, not "unset".
    public var pointer: Bool
    public var description: String

    public init(_ name: String, _ type: FieldType, _ proto: Int = 0, patch: PatchStrategy = .replace, pointer: Bool = false, description: String = "") {
        self.name = name
        self.type = type
        self.proto = proto
        self.patch = patch
        self.pointer = pointer
        self.description = description
    }
}

/// How strategic merge patch combines a field: lists are replaced unless they merge (by key, or as a set).
public enum PatchStrategy: Sendable, Hashable {
    case replace
    case mergeByKey(String)
    case mergeSet
    case retainKeys
    case mergeByKeyRetainKeys(String)

    public var mergeKey: String? {
        switch self {
        case .mergeByKey(let k), .mergeByKeyRetainKeys(let k): return k
        default: return nil
        }
    }
}

public indirect enum FieldType: Sendable {
    case string
    case int32
    case int64
    case bool
    case double
    /// `[]byte`: base64 text in JSON.
    case bytes
    /// `resource.Quantity`: a string in JSON.
    case quantity
    /// `intstr.IntOrString`.
    case intOrString
    /// `metav1.Time` / `metav1.MicroTime`: RFC 3339 text.
    case time
    case microTime
    /// `runtime.RawExtension` or any JSON.
    case any
    case object(TypeSchema)
    case array(FieldType)
    case map(FieldType)

    /// JSON type name used in OpenAPI and type errors.
    public var jsonType: String {
        switch self {
        case .string, .bytes, .quantity, .time, .microTime: return "string"
        case .int32, .int64: return "integer"
        case .bool: return "boolean"
        case .double: return "number"
        case .intOrString, .any: return "any"
        case .object, .map: return "object"
        case .array: return "array"
        }
    }
}
