public import Foundation
public import TugAPIMachinery

public struct ConfigMapStrategy: DataStrategy {
    public init() {}

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let data = object["data"].objectValue ?? [:]
        for key in data.keys.sorted() where !DataKeys.isValid(key) {
            errors.invalid("data", .string(key), DataKeys.message)
        }
        let binary = object["binaryData"].objectValue ?? [:]
        for key in binary.keys.sorted() {
            if !DataKeys.isValid(key) { errors.invalid("binaryData", .string(key), DataKeys.message) }
            if data[key] != nil { errors.invalid("data", .string(key), "duplicate of key present in binaryData") }
        }
        let size = data.values.reduce(0) { $0 + ($1.stringValue?.utf8.count ?? 0) }
            + binary.values.reduce(0) { $0 + DataKeys.decodedSize($1) }
        if size > DataKeys.maxSize { errors.append(FieldError(.tooLong(DataKeys.maxSize), field: "[]")) }
        return errors
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        if old["immutable"].boolValue == true, object["data"] != old["data"] || object["binaryData"] != old["binaryData"] {
            errors.append(FieldError(.forbidden, field: "data", detail: "field is immutable when `immutable` is set"))
        }
        return errors
    }

    public var columns: [TableColumn] { [.name, TableColumn("Data", type: "integer", description: "Number of data entries"), .age] }

    public func cells(_ cm: JSONValue, now: Date) -> [JSONValue] {
        [.string(cm.name), .int(Int64((cm["data"].objectValue?.count ?? 0) + (cm["binaryData"].objectValue?.count ?? 0))), TableColumn.age(cm, now: now)]
    }
}

public struct SecretStrategy: DataStrategy {
    public init() {}

    /// `stringData` is write-only: it is folded into `data` (base64) and dropped, as the real API does.
    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.setIfAbsent(&object, "type", "Opaque")
        if case .object(let stringData) = object["stringData"] {
            var data = object["data"].objectValue ?? [:]
            for (k, v) in stringData { data[k] = .string(Base64.encode(Array((v.stringValue ?? "").utf8))) }
            object["data"] = .object(data)
            object["stringData"] = .null
        }
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let data = object["data"].objectValue ?? [:]
        for key in data.keys.sorted() where !DataKeys.isValid(key) {
            errors.invalid("data[\(key)]", .string(key), DataKeys.message)
        }
        if data.values.reduce(0, { $0 + DataKeys.decodedSize($1) }) > DataKeys.maxSize {
            errors.append(FieldError(.tooLong(DataKeys.maxSize), field: "data"))
        }
        if object["type"] == "kubernetes.io/tls" {
            for key in ["tls.crt", "tls.key"] where object["data"][key].isNull { errors.required("data[\(key)]") }
        }
        return errors
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        if object["type"] != old["type"] { errors.invalid("type", object["type"], "field is immutable") }
        if old["immutable"].boolValue == true, object["data"] != old["data"] {
            errors.append(FieldError(.forbidden, field: "data", detail: "field is immutable when `immutable` is set"))
        }
        return errors
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Type", description: "The type of the secret"), TableColumn("Data", type: "integer", description: "The number of entries in the data field"), .age]
    }

    public func cells(_ s: JSONValue, now: Date) -> [JSONValue] {
        [.string(s.name), .string(s["type"].stringValue ?? "Opaque"), .int(Int64(s["data"].objectValue?.count ?? 0)), TableColumn.age(s, now: now)]
    }

    public func selectableFields(_ s: JSONValue) -> [String: String] { ["type": s["type"].stringValue ?? ""] }
}

public struct ServiceAccountStrategy: DataStrategy {
    public init() {}
    public var columns: [TableColumn] { [.name, TableColumn("Secrets", type: "integer", description: "The number of secrets"), .age] }
    public func cells(_ sa: JSONValue, now: Date) -> [JSONValue] {
        [.string(sa.name), .int(Int64(sa["secrets"].arrayValue?.count ?? 0)), TableColumn.age(sa, now: now)]
    }
}

/// A kind shown as Name and Age only, with no status split (Lease, IngressClass, EndpointSlice…).
public struct PlainStrategy: DataStrategy {
    let extraColumns: [TableColumn]
    let extraCells: @Sendable (JSONValue) -> [JSONValue]

    public init(columns: [TableColumn] = [], cells: @escaping @Sendable (JSONValue) -> [JSONValue] = { _ in [] }) {
        self.extraColumns = columns
        self.extraCells = cells
    }

    public var columns: [TableColumn] { [.name] + extraColumns + [.age] }
    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] { [.string(object.name)] + extraCells(object) + [TableColumn.age(object, now: now)] }
}

/// A kind with a spec/status split shown as Name and Age plus extra columns (PVC, Ingress, Endpoints).
public struct SpecStatusStrategy: ResourceStrategy {
    let extraColumns: [TableColumn]
    let extraCells: @Sendable (JSONValue) -> [JSONValue]
    let defaults: @Sendable (inout JSONValue) -> Void

    public init(columns: [TableColumn] = [], cells: @escaping @Sendable (JSONValue) -> [JSONValue] = { _ in [] },
                defaults: @escaping @Sendable (inout JSONValue) -> Void = { _ in }) {
        self.extraColumns = columns
        self.extraCells = cells
        self.defaults = defaults
    }

    public func applyDefaults(_ object: inout JSONValue) { defaults(&object) }
    public var columns: [TableColumn] { [.name] + extraColumns + [.age] }
    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] { [.string(object.name)] + extraCells(object) + [TableColumn.age(object, now: now)] }
}

enum DataKeys {
    static let message = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    static func isValid(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 253 && key != "." && key != ".." && !key.hasPrefix("..")
            && key.utf8.allSatisfy { NameValidation.isAlnum($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// Upstream's MaxSecretSize: the data of a ConfigMap or Secret, decoded, is at most 1 MiB.
    static let maxSize = 1 << 20

    /// Bytes a base64 value decodes to (computed from its length: padding is counted off, nothing is decoded).
    static func decodedSize(_ value: JSONValue) -> Int {
        guard let text = value.stringValue else { return 0 }
        let length = text.utf8.count
        let padding = text.utf8.reversed().prefix(2).prefix { $0 == UInt8(ascii: "=") }.count
        return max(0, length / 4 * 3 + (length % 4 == 0 ? 0 : length % 4 - 1) - padding)
    }
}
