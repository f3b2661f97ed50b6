public import Foundation
public import TugAPIMachinery

/// flowcontrol.apiserver.k8s.io/v1 FlowSchema: defaults (`matchingPrecedence` 1000) and upstream's validation; the
/// status (the `Dangling` condition) is written by the server through the status subresource.
public struct FlowSchemaStrategy: ResourceStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        if object["spec"]["matchingPrecedence"].isNull { object["spec"]["matchingPrecedence"] = 1000 }
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let spec = object["spec"]
        if let precedence = spec["matchingPrecedence"].intValue, !(1...10_000).contains(precedence) {
            errors.invalid("spec.matchingPrecedence", .int(precedence), "must be between 1 and 10000, inclusive")
        }
        if (spec["priorityLevelConfiguration"]["name"].stringValue ?? "").isEmpty {
            errors.required("spec.priorityLevelConfiguration.name", "must reference a priority level")
        }
        if let method = spec["distinguisherMethod"]["type"].stringValue, !["ByUser", "ByNamespace"].contains(method) {
            errors.append(FieldError(.notSupported(["ByNamespace", "ByUser"]), field: "spec.distinguisherMethod.type", value: .string(method)))
        }
        for (i, rule) in (spec["rules"].arrayValue ?? []).enumerated() {
            Self.validate(rule: rule, path: "spec.rules[\(i)]", into: &errors)
        }
        return errors
    }

    static func validate(rule: JSONValue, path: String, into errors: inout FieldErrorList) {
        let subjects = rule["subjects"].arrayValue ?? []
        if subjects.isEmpty { errors.required("\(path).subjects", "subjects must contain at least one value") }
        for (i, subject) in subjects.enumerated() {
            let at = "\(path).subjects[\(i)]"
            switch subject["kind"].stringValue {
            case "User": if (subject["user"]["name"].stringValue ?? "").isEmpty { errors.required("\(at).user.name", "username is required") }
            case "Group": if (subject["group"]["name"].stringValue ?? "").isEmpty { errors.required("\(at).group.name", "group name is required") }
            case "ServiceAccount":
                if (subject["serviceAccount"]["name"].stringValue ?? "").isEmpty { errors.required("\(at).serviceAccount.name", "name is required") }
                if (subject["serviceAccount"]["namespace"].stringValue ?? "").isEmpty { errors.required("\(at).serviceAccount.namespace", "namespace is required") }
            default:
                errors.append(FieldError(.notSupported(["Group", "ServiceAccount", "User"]), field: "\(at).kind", value: subject["kind"]))
            }
        }
        let resourceRules = rule["resourceRules"].arrayValue ?? [], nonResourceRules = rule["nonResourceRules"].arrayValue ?? []
        if resourceRules.isEmpty && nonResourceRules.isEmpty {
            errors.required(path, "at least one of resourceRules and nonResourceRules has to be non-empty")
        }
        for (i, r) in resourceRules.enumerated() {
            let at = "\(path).resourceRules[\(i)]"
            for field in ["verbs", "apiGroups", "resources"] { requireList(r[field], "\(at).\(field)", into: &errors) }
            if r["clusterScope"].boolValue != true, (r["namespaces"].arrayValue ?? []).isEmpty {
                errors.required("\(at).namespaces", "resource rules that are not cluster scoped must supply at least one namespace")
            }
        }
        for (i, r) in nonResourceRules.enumerated() {
            let at = "\(path).nonResourceRules[\(i)]"
            for field in ["verbs", "nonResourceURLs"] { requireList(r[field], "\(at).\(field)", into: &errors) }
        }
    }

    /// A required list whose wildcard `*`, when present, is its only member.
    static func requireList(_ value: JSONValue, _ path: String, into errors: inout FieldErrorList) {
        let items = (value.arrayValue ?? []).compactMap(\.stringValue)
        if items.isEmpty { errors.required(path, "\(path.split(separator: ".").last ?? "") must contain at least one value") }
        if items.count > 1, items.contains("*") { errors.invalid(path, value, "if '*' is present, must not specify other values") }
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("PriorityLevel", description: "`priorityLevelConfiguration` should reference a PriorityLevelConfiguration in the cluster."),
         TableColumn("MatchingPrecedence", description: "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request."),
         TableColumn("DistinguisherMethod", description: "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema."),
         .age, TableColumn("MissingPL", description: "references a broken or non-existent PriorityLevelConfiguration")]
    }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"]
        let dangling = (object["status"]["conditions"].arrayValue ?? []).first { $0["type"] == "Dangling" }
        return [.string(object.name), .string(spec["priorityLevelConfiguration"]["name"].stringValue ?? ""),
                .int(spec["matchingPrecedence"].intValue ?? 0), .string(spec["distinguisherMethod"]["type"].stringValue ?? "*"),
                TableColumn.age(object, now: now), .string(dangling?["status"].stringValue ?? "?")]
    }
}
