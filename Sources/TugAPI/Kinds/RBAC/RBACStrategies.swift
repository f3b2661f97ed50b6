public import Foundation
public import TugAPIMachinery

/// Roles and ClusterRoles: upstream's validation (`pkg/apis/rbac/validation`): every rule names verbs; a resource
/// rule names groups and resources; a rule is about resources or about URLs, never both; namespaced roles have no
/// URL rules. Names are path segments (`system:kube-scheduler` is a valid name).
public struct RoleStrategy: DataStrategy {
    let namespaced: Bool

    public init(namespaced: Bool) {
        self.namespaced = namespaced
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        for (i, rule) in (object["rules"].arrayValue ?? []).enumerated() {
            Self.validate(rule: rule, path: "rules[\(i)]", namespaced: namespaced, into: &errors)
        }
        if !namespaced, let selectors = object["aggregationRule"]["clusterRoleSelectors"].arrayValue {
            if selectors.isEmpty { errors.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil") }
            for (i, selector) in selectors.enumerated() {
                do { _ = try LabelSelector.from(selector) } catch {
                    errors.invalid("aggregationRule.clusterRoleSelectors[\(i)]", selector, error.description)
                }
            }
        }
        return errors
    }

    static func validate(rule: JSONValue, path: String, namespaced: Bool, into errors: inout FieldErrorList) {
        func count(_ key: String) -> Int { rule[key].arrayValue?.count ?? 0 }
        if count("verbs") == 0 { errors.required("\(path).verbs", "verbs must contain at least one value") }
        if count("nonResourceURLs") > 0 {
            if namespaced { errors.invalid("\(path).nonResourceURLs", rule["nonResourceURLs"], "namespaced rules cannot apply to non-resource URLs") }
            if count("apiGroups") > 0 || count("resources") > 0 || count("resourceNames") > 0 {
                errors.invalid("\(path).nonResourceURLs", rule["nonResourceURLs"], "rules cannot apply to both regular resources and non-resource URLs")
            }
            return
        }
        if count("apiGroups") == 0 { errors.required("\(path).apiGroups", "resource rules must supply at least one api group") }
        if count("resources") == 0 { errors.required("\(path).resources", "resource rules must supply at least one resource") }
    }

    public func nameErrors(_ name: String) -> [String] { RBACNames.errors(name) }

    public var columns: [TableColumn] {
        [.name, TableColumn("Created At", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created.")]
    }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name), .string(object.creationTimestamp ?? "")]
    }
}

/// RoleBindings and ClusterRoleBindings: a role reference (Role or ClusterRole for a RoleBinding, ClusterRole
/// only for a ClusterRoleBinding) that never changes after creation, and subjects defaulted and checked as
/// upstream's (`apiGroup` rbac.authorization.k8s.io for users and groups, "" for service accounts).
public struct RoleBindingStrategy: DataStrategy {
    let namespaced: Bool

    public init(namespaced: Bool) {
        self.namespaced = namespaced
    }

    static let rbacGroup = "rbac.authorization.k8s.io"

    public func applyDefaults(_ object: inout JSONValue) {
        guard var subjects = object["subjects"].arrayValue else { return }
        for i in subjects.indices where subjects[i]["apiGroup"].isNull {
            switch subjects[i]["kind"].stringValue {
            case "ServiceAccount": subjects[i]["apiGroup"] = ""
            case "User", "Group": subjects[i]["apiGroup"] = .string(Self.rbacGroup)
            default: break
            }
        }
        object["subjects"] = .array(subjects)
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let ref = object["roleRef"]
        if ref["apiGroup"].stringValue != Self.rbacGroup {
            errors.append(FieldError(.notSupported([Self.rbacGroup]), field: "roleRef.apiGroup", value: ref["apiGroup"].isNull ? "" : ref["apiGroup"]))
        }
        let kinds = namespaced ? ["ClusterRole", "Role"] : ["ClusterRole"]
        if !kinds.contains(ref["kind"].stringValue ?? "") {
            errors.append(FieldError(.notSupported(kinds), field: "roleRef.kind", value: ref["kind"].isNull ? "" : ref["kind"]))
        }
        let roleName = ref["name"].stringValue ?? ""
        if roleName.isEmpty {
            errors.required("roleRef.name")
        } else {
            for problem in RBACNames.errors(roleName) { errors.invalid("roleRef.name", .string(roleName), problem) }
        }
        for (i, subject) in (object["subjects"].arrayValue ?? []).enumerated() {
            validate(subject: subject, path: "subjects[\(i)]", into: &errors)
        }
        return errors
    }

    func validate(subject: JSONValue, path: String, into errors: inout FieldErrorList) {
        let name = subject["name"].stringValue ?? ""
        if name.isEmpty { errors.required("\(path).name") }
        let group = subject["apiGroup"].stringValue ?? ""
        switch subject["kind"].stringValue {
        case "ServiceAccount":
            if !name.isEmpty { for problem in NameValidation.subdomainErrors(name) { errors.invalid("\(path).name", .string(name), problem) } }
            if !group.isEmpty { errors.append(FieldError(.notSupported([""]), field: "\(path).apiGroup", value: .string(group))) }
            if !namespaced, (subject["namespace"].stringValue ?? "").isEmpty { errors.required("\(path).namespace") }
        case "User", "Group":
            if group != Self.rbacGroup { errors.append(FieldError(.notSupported([Self.rbacGroup]), field: "\(path).apiGroup", value: .string(group))) }
        default:
            errors.append(FieldError(.notSupported(["ServiceAccount", "User", "Group"]), field: "\(path).kind", value: subject["kind"].isNull ? "" : subject["kind"]))
        }
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        if object["roleRef"] != old["roleRef"] { errors.invalid("roleRef", object["roleRef"], "cannot change roleRef") }
        return errors
    }

    public func nameErrors(_ name: String) -> [String] { RBACNames.errors(name) }

    public var columns: [TableColumn] {
        [.name, TableColumn("Role"), .age, TableColumn("Users", priority: 1), TableColumn("Groups", priority: 1),
         TableColumn("ServiceAccounts", priority: 1)]
    }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        let subjects = object["subjects"].arrayValue ?? []
        func names(_ kind: String, _ name: (JSONValue) -> String) -> JSONValue {
            .string(subjects.filter { $0["kind"].stringValue == kind }.map(name).joined(separator: ", "))
        }
        let ref = object["roleRef"]
        return [.string(object.name), .string("\(ref["kind"].stringValue ?? "")/\(ref["name"].stringValue ?? "")"), TableColumn.age(object, now: now),
                names("User") { $0["name"].stringValue ?? "" }, names("Group") { $0["name"].stringValue ?? "" },
                names("ServiceAccount") { "\($0["namespace"].stringValue ?? ""):\($0["name"].stringValue ?? "")" }]
    }
}

/// RBAC object names are path segments, as upstream's `ValidateRBACName`: anything but `.`, `..`, `/` and `%`.
enum RBACNames {
    static func errors(_ name: String) -> [String] {
        if name == "." || name == ".." { return ["may not be '\(name)'"] }
        for bad in ["/", "%"] where name.contains(bad) { return ["may not contain '\(bad)'"] }
        return []
    }
}
