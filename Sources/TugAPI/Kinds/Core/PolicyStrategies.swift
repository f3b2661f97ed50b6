public import Foundation
public import TugAPIMachinery

/// LimitRange: upstream's defaulting of container items (a default limit from `max`, a default request from the
/// default limit or `min`) and validation (quantities parse; min ≤ default request ≤ default ≤ max).
public struct LimitRangeStrategy: DataStrategy {
    public init() {}

    static let types = ["Container", "Pod", "PersistentVolumeClaim"]

    public func applyDefaults(_ object: inout JSONValue) {
        guard var items = object["spec"]["limits"].arrayValue else { return }
        for i in items.indices where items[i]["type"].stringValue == "Container" {
            for (key, value) in items[i]["max"].stringMap where items[i]["default"][key].isNull { items[i]["default"][key] = .string(value) }
            for (key, value) in items[i]["default"].stringMap where items[i]["defaultRequest"][key].isNull { items[i]["defaultRequest"][key] = .string(value) }
            for (key, value) in items[i]["min"].stringMap where items[i]["defaultRequest"][key].isNull { items[i]["defaultRequest"][key] = .string(value) }
        }
        object["spec"]["limits"] = .array(items)
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        for (i, item) in (object["spec"]["limits"].arrayValue ?? []).enumerated() {
            let path = "spec.limits[\(i)]"
            if !Self.types.contains(item["type"].stringValue ?? "") {
                errors.append(FieldError(.notSupported(Self.types), field: "\(path).type", value: item["type"].isNull ? "" : item["type"]))
            }
            var parsed: [String: [String: Quantity]] = [:]
            for field in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
                for (key, text) in item[field].stringMap.sorted(by: { $0.key < $1.key }) {
                    guard let q = Quantity.parse(text) else {
                        errors.invalid("\(path).\(field)[\(key)]", .string(text), "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
                        continue
                    }
                    parsed[field, default: [:]][key] = q
                }
            }
            let order = ["min", "defaultRequest", "default", "max"]
            for (a, lower) in order.enumerated() {
                for upper in order[(a + 1)...] {
                    for (key, low) in parsed[lower] ?? [:] {
                        guard let high = parsed[upper]?[key], low > high else { continue }
                        errors.invalid("\(path).\(lower)[\(key)]", .string(item[lower][key].stringValue ?? ""),
                                       "\(lower) value \(item[lower][key].stringValue ?? "") is greater than \(upper) value \(item[upper][key].stringValue ?? "")")
                    }
                }
            }
        }
        return errors
    }

    public var columns: [TableColumn] { [.name, TableColumn("Created At", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created.")] }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] { [.string(object.name), .string(object.creationTimestamp ?? "")] }
}

/// ResourceQuota: quantities parse, scopes are known; the status (hard and used) is the quota controller's.
public struct ResourceQuotaStrategy: ResourceStrategy {
    public init() {}

    static let scopes = ["Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity"]

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        for (key, text) in object["spec"]["hard"].stringMap.sorted(by: { $0.key < $1.key }) where Quantity.parse(text) == nil {
            errors.invalid("spec.hard[\(key)]", .string(text), "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
        }
        for (i, scope) in (object["spec"]["scopes"].arrayValue ?? []).enumerated() where !Self.scopes.contains(scope.stringValue ?? "") {
            errors.append(FieldError(.notSupported(Self.scopes), field: "spec.scopes[\(i)]", value: scope))
        }
        return errors
    }

    public var tracksGeneration: Bool { false }

    public var columns: [TableColumn] {
        [.name, .age, TableColumn("Request", description: "Request represents a minimum amount of cpu/memory that a container may consume."),
         TableColumn("Limit", description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.")]
    }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        let hard = object["status"]["hard"].stringMap, used = object["status"]["used"].stringMap
        func cell(_ limits: Bool) -> JSONValue {
            .string(hard.keys.filter { $0.hasPrefix("limits.") == limits }.sorted().map { "\($0): \(used[$0] ?? "0")/\(hard[$0] ?? "")" }.joined(separator: ", "))
        }
        return [.string(object.name), TableColumn.age(object, now: now), cell(false), cell(true)]
    }
}
