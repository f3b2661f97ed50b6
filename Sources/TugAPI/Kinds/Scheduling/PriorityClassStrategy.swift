public import Foundation
public import TugAPIMachinery

/// scheduling.k8s.io/v1 PriorityClass: user classes stay at or below one billion and may not take the `system-`
/// prefix (the two built-in classes above it are created at start-up); value and preemptionPolicy are immutable.
public struct PriorityClassStrategy: ResourceStrategy {
    public static let highestUserDefinable: Int64 = 1_000_000_000
    public static let systemClasses: [String: Int64] = ["system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000]

    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        if object["preemptionPolicy"].isNull { object["preemptionPolicy"] = "PreemptLowerPriority" }
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        guard let value = object["value"].intValue else {
            errors.required("value")
            return errors
        }
        if let system = Self.systemClasses[object.name] {
            if value != system { errors.invalid("value", .int(value), "value of \(object.name) must be \(system)") }
        } else {
            if object.name.hasPrefix("system-") {
                errors.append(FieldError(.forbidden, field: "metadata.name", detail: "priority class names with 'system-' prefix are reserved"))
            }
            if value > Self.highestUserDefinable {
                errors.invalid("value", .int(value), "must be less than or equal to \(Self.highestUserDefinable)")
            }
        }
        if let policy = object["preemptionPolicy"].stringValue, !["PreemptLowerPriority", "Never"].contains(policy) {
            errors.append(FieldError(.notSupported(["Never", "PreemptLowerPriority"]), field: "preemptionPolicy", value: .string(policy)))
        }
        return errors
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        if object["value"] != old["value"] { errors.invalid("value", object["value"], "field is immutable") }
        if object["preemptionPolicy"] != old["preemptionPolicy"] { errors.invalid("preemptionPolicy", object["preemptionPolicy"], "field is immutable") }
        return errors
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Value", type: "integer", description: "The value of this priority class."),
         TableColumn("Global-Default", type: "boolean", description: "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class."),
         .age, TableColumn("PreemptionPolicy", description: "PreemptionPolicy is the Policy for preempting pods with lower priority.")]
    }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name), .int(object["value"].intValue ?? 0), .bool(object["globalDefault"].boolValue ?? false),
         TableColumn.age(object, now: now), .string(object["preemptionPolicy"].stringValue ?? "PreemptLowerPriority")]
    }
}
