/// One validation failure at a field path, as in apimachinery's `field.Error`.
public struct FieldError: Sendable, Hashable, CustomStringConvertible {
    public enum ErrorType: Sendable, Hashable {
        case required, invalid, duplicate, notSupported([String]), forbidden, tooLong(Int), typeInvalid, tooMany

        public var reason: String {
            switch self {
            case .required: return "FieldValueRequired"
            case .invalid: return "FieldValueInvalid"
            case .duplicate: return "FieldValueDuplicate"
            case .notSupported: return "FieldValueNotSupported"
            case .forbidden: return "FieldValueForbidden"
            case .tooLong: return "FieldValueTooLong"
            case .typeInvalid: return "FieldValueTypeInvalid"
            case .tooMany: return "FieldValueTooMany"
            }
        }
    }

    public var type: ErrorType
    public var field: String
    public var badValue: JSONValue?
    public var detail: String

    public init(_ type: ErrorType, field: String, value: JSONValue? = nil, detail: String = "") {
        self.type = type
        self.field = field
        self.badValue = value
        self.detail = detail
    }

    /// The message placed in a `causes` entry (no field prefix).
    public var causeMessage: String {
        var s: String
        switch type {
        case .required: s = "Required value"
        case .invalid: s = "Invalid value: \(Self.render(badValue))"
        case .duplicate: s = "Duplicate value: \(Self.render(badValue))"
        case .notSupported(let valid):
            s = "Unsupported value: \(Self.render(badValue))"
            if !valid.isEmpty { s += ": supported values: " + valid.map { "\"\($0)\"" }.joined(separator: ", ") }
        case .forbidden: s = "Forbidden"
        case .tooLong(let max): s = "Too long: may not be more than \(max) bytes"
        case .typeInvalid: s = "Invalid value: \(Self.render(badValue))"
        case .tooMany: s = "Too many"
        }
        if !detail.isEmpty { s += ": " + detail }
        return s
    }

    public var description: String { field.isEmpty ? causeMessage : "\(field): \(causeMessage)" }

    static func render(_ value: JSONValue?) -> String {
        guard let value else { return "\"\"" }
        switch value {
        case .string(let s): return "\"\(s)\""
        case .int(let i): return String(i)
        case .bool(let b): return String(b)
        case .null: return "null"
        default: return JSONWriter.string(value)
        }
    }
}

/// An ordered list of field errors collected by a validation pass.
public struct FieldErrorList: Sendable, Hashable {
    public private(set) var errors: [FieldError] = []
    public init(_ errors: [FieldError] = []) { self.errors = errors }
    public var isEmpty: Bool { errors.isEmpty }
    public mutating func append(_ error: FieldError) { errors.append(error) }
    public mutating func append(contentsOf other: FieldErrorList) { errors.append(contentsOf: other.errors) }
    public mutating func required(_ field: String, _ detail: String = "") { append(FieldError(.required, field: field, detail: detail)) }
    public mutating func invalid(_ field: String, _ value: JSONValue?, _ detail: String) {
        append(FieldError(.invalid, field: field, value: value, detail: detail))
    }
}
