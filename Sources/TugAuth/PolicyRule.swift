public import TugAPIMachinery

/// An RBAC `PolicyRule`: verbs on resources of API groups (optionally only some names), or verbs on non-resource
/// URLs. Matching is upstream's (`k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go`): `*` matches
/// everything in its list, a resource `*/status` matches that subresource of every resource, a URL ending in `*`
/// matches by prefix, and an empty `resourceNames` matches every name.
public struct PolicyRule: Sendable, Hashable {
    public var verbs: [String]
    public var apiGroups: [String]
    public var resources: [String]
    public var resourceNames: [String]
    public var nonResourceURLs: [String]

    public init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [],
                nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    /// A rule as stored (`rules[i]` of a Role or ClusterRole).
    public init(json: JSONValue) {
        func strings(_ key: String) -> [String] { (json[key].arrayValue ?? []).compactMap(\.stringValue) }
        self.init(verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
                  resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
    }

    /// The rule as the API writes it (empty lists left out, as Go's `omitempty`; `verbs` always present).
    public var json: JSONValue {
        var rule: JSONValue = ["verbs": .array(verbs.map(JSONValue.string))]
        for (key, list) in [("apiGroups", apiGroups), ("resources", resources), ("resourceNames", resourceNames),
                            ("nonResourceURLs", nonResourceURLs)] where !list.isEmpty {
            rule[key] = .array(list.map(JSONValue.string))
        }
        return rule
    }

    public func matches(_ a: AuthorizationAttributes) -> Bool {
        guard Self.contains(verbs, a.verb) else { return false }
        guard a.isResourceRequest else { return nonResourceURLs.contains { Self.url($0, matches: a.path) } }
        return Self.contains(apiGroups, a.apiGroup) && matchesResource(a.combinedResource, subresource: a.subresource)
            && (resourceNames.isEmpty || resourceNames.contains(a.name))
    }

    func matchesResource(_ combined: String, subresource: String) -> Bool {
        resources.contains { rule in
            rule == "*" || rule == combined
                || (!subresource.isEmpty && rule.hasPrefix("*/") && rule.utf8.count == subresource.utf8.count + 2 && rule.hasSuffix(subresource))
        }
    }

    static func contains(_ list: [String], _ value: String) -> Bool {
        list.contains { $0 == "*" || $0 == value }
    }

    static func url(_ rule: String, matches path: String) -> Bool {
        if rule == "*" || rule == path { return true }
        return rule.hasSuffix("*") && path.hasPrefix(rule.dropLast())
    }

    /// The rule as upstream's `CompactString` prints it in escalation errors:
    /// `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`.
    public var compactDescription: String {
        var parts: [String] = []
        for (label, list) in [("APIGroups", apiGroups), ("Resources", resources), ("ResourceNames", resourceNames),
                              ("NonResourceURLs", nonResourceURLs), ("Verbs", verbs)] where !list.isEmpty || label == "Verbs" {
            parts.append("\(label):\(quoted(list))")
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
