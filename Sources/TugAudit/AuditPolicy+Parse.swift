import TugAPIMachinery

extension AuditPolicy {
    /// Reads the YAML or JSON file `--audit-policy-file` names, checked as kube-apiserver checks it: every problem
    /// is reported with its field path, and a policy with any is refused.
    public static func parse(_ text: String) throws(Invalid) -> AuditPolicy {
        let document: JSONValue
        do { document = try YAMLDecoding.decode(text) } catch { throw Invalid(description: "not YAML or JSON: \(error)") }
        var errors: [String] = []
        let apiVersion = document["apiVersion"].stringValue ?? ""
        if apiVersion != "audit.k8s.io/v1" {
            errors.append("apiVersion: Unsupported value: \"\(apiVersion)\": supported values: \"audit.k8s.io/v1\"")
        }
        if document["kind"].stringValue != "Policy" {
            errors.append("kind: Unsupported value: \"\(document["kind"].stringValue ?? "")\": supported values: \"Policy\"")
        }
        let omitStages = stages(document["omitStages"], at: "omitStages", errors: &errors)
        var rules: [Rule] = []
        for (index, value) in (document["rules"].arrayValue ?? []).enumerated() {
            if let rule = rule(value, at: "rules[\(index)]", errors: &errors) { rules.append(rule) }
        }
        guard errors.isEmpty else { throw Invalid(description: "invalid audit policy: " + errors.joined(separator: ", ")) }
        return AuditPolicy(rules: rules, omitStages: omitStages, omitManagedFields: document["omitManagedFields"].boolValue ?? false)
    }

    static func strings(_ value: JSONValue) -> [String] {
        (value.arrayValue ?? []).compactMap(\.stringValue)
    }

    static func stages(_ value: JSONValue, at path: String, errors: inout [String]) -> Set<AuditStage> {
        var result: Set<AuditStage> = []
        for (index, name) in strings(value).enumerated() {
            guard let stage = AuditStage(rawValue: name) else {
                let supported = AuditStage.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                errors.append("\(path)[\(index)]: Unsupported value: \"\(name)\": supported values: \(supported)")
                continue
            }
            result.insert(stage)
        }
        return result
    }

    static func rule(_ value: JSONValue, at path: String, errors: inout [String]) -> Rule? {
        guard let name = value["level"].stringValue, !name.isEmpty else {
            errors.append("\(path).level: Required value")
            return nil
        }
        guard let level = AuditLevel(rawValue: name) else {
            let supported = AuditLevel.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            errors.append("\(path).level: Unsupported value: \"\(name)\": supported values: \(supported)")
            return nil
        }
        var rule = Rule(level: level)
        rule.users = strings(value["users"])
        rule.userGroups = strings(value["userGroups"])
        rule.verbs = strings(value["verbs"])
        rule.namespaces = strings(value["namespaces"])
        rule.nonResourceURLs = strings(value["nonResourceURLs"])
        rule.omitStages = stages(value["omitStages"], at: "\(path).omitStages", errors: &errors)
        rule.omitManagedFields = value["omitManagedFields"].boolValue
        for (index, group) in (value["resources"].arrayValue ?? []).enumerated() {
            let entry = GroupResources(group: group["group"].stringValue ?? "", resources: strings(group["resources"]),
                                       resourceNames: strings(group["resourceNames"]))
            if !entry.resourceNames.isEmpty, entry.resources.isEmpty {
                errors.append("\(path).resources[\(index)].resourceNames: Invalid value: \(entry.resourceNames): using resourceNames requires at least one resource")
            }
            for (position, resource) in entry.resources.enumerated() where !validResource(resource) {
                errors.append("\(path).resources[\(index)].resources[\(position)]: Invalid value: \"\(resource)\": "
                              + "must be a resource, resource/subresource, \"*\", \"*/subresource\" or \"resource/*\"")
            }
            rule.resources.append(entry)
        }
        if !rule.nonResourceURLs.isEmpty, !rule.resources.isEmpty || !rule.namespaces.isEmpty {
            errors.append("\(path).nonResourceURLs: Invalid value: \(rule.nonResourceURLs): rules cannot apply to both regular resources and non-resource URLs")
        }
        for (index, url) in rule.nonResourceURLs.enumerated() {
            if url != "*", !url.hasPrefix("/") {
                errors.append("\(path).nonResourceURLs[\(index)]: Invalid value: \"\(url)\": non-resource URL rules must begin with a '/' character")
            }
            if url.dropLast().contains("*") {
                errors.append("\(path).nonResourceURLs[\(index)]: Invalid value: \"\(url)\": non-resource URL rules may only use wildcards ('*') at the end")
            }
        }
        return rule
    }

    static func validResource(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return !parts[0].isEmpty && (parts[0] == "*" || !parts[0].contains("*"))
        case 2: return !parts[0].isEmpty && !parts[1].isEmpty && !(parts[0] == "*" && parts[1] == "*")
            && (parts[0] == "*" || !parts[0].contains("*")) && (parts[1] == "*" || !parts[1].contains("*"))
        default: return false
        }
    }
}
