import TugAPIMachinery
import TugAuth

/// The attributes of a request that flow control classifies on.
struct RequestDigest: Sendable {
    var user: UserInfo
    /// The Kubernetes verb (`get`, `list`, `watch`, `create`, …) of a resource request, or the lowercase HTTP
    /// method of a non-resource request.
    var verb: String
    /// Nil for a non-resource request.
    var resource: Resource?
    var path: String

    struct Resource: Sendable {
        var group: String
        /// `pods`, or `pods/status` for a subresource.
        var resource: String
        /// Empty for a cluster-scoped request (a cluster-scoped kind, or a list across all namespaces).
        var namespace: String
    }
}

/// One FlowSchema, compiled for matching.
struct CompiledFlowSchema: Sendable {
    var name: String
    var uid: String
    var precedence: Int64
    var priorityLevel: String
    /// `ByUser`, `ByNamespace`, or nil (every request of the schema is one flow).
    var distinguisher: String?
    var rules: [JSONValue]

    init(_ object: JSONValue) {
        name = object.name
        uid = object.uid
        precedence = object["spec"]["matchingPrecedence"].intValue ?? 1000
        priorityLevel = object["spec"]["priorityLevelConfiguration"]["name"].stringValue ?? ""
        distinguisher = object["spec"]["distinguisherMethod"]["type"].stringValue
        rules = object["spec"]["rules"].arrayValue ?? []
    }

    func matches(_ digest: RequestDigest) -> Bool {
        rules.contains { rule in
            (rule["subjects"].arrayValue ?? []).contains { Self.subject($0, matches: digest.user) } && Self.rule(rule, matches: digest)
        }
    }

    /// The flow's distinguisher: the user's name, the request's namespace, or nothing.
    func flowDistinguisher(_ digest: RequestDigest) -> String {
        switch distinguisher {
        case "ByUser": return digest.user.name
        case "ByNamespace": return digest.resource?.namespace ?? ""
        default: return ""
        }
    }

    static func subject(_ subject: JSONValue, matches user: UserInfo) -> Bool {
        switch subject["kind"].stringValue {
        case "User":
            let name = subject["user"]["name"].stringValue
            return name == "*" || name == user.name
        case "Group":
            guard let name = subject["group"]["name"].stringValue else { return false }
            return name == "*" || user.groups.contains(name)
        case "ServiceAccount":
            guard let namespace = subject["serviceAccount"]["namespace"].stringValue,
                  let name = subject["serviceAccount"]["name"].stringValue else { return false }
            let prefix = "system:serviceaccount:\(namespace):"
            return name == "*" ? user.name.hasPrefix(prefix) : user.name == prefix + name
        default:
            return false
        }
    }

    static func rule(_ rule: JSONValue, matches digest: RequestDigest) -> Bool {
        guard let target = digest.resource else {
            return (rule["nonResourceRules"].arrayValue ?? []).contains { r in
                member(r["verbs"], digest.verb) && (r["nonResourceURLs"].arrayValue ?? []).contains { url(($0.stringValue ?? ""), matches: digest.path) }
            }
        }
        return (rule["resourceRules"].arrayValue ?? []).contains { r in
            guard member(r["verbs"], digest.verb), member(r["apiGroups"], target.group), member(r["resources"], target.resource) else { return false }
            if target.namespace.isEmpty { return r["clusterScope"].boolValue == true }
            return member(r["namespaces"], target.namespace)
        }
    }

    static func member(_ list: JSONValue, _ value: String) -> Bool {
        (list.arrayValue ?? []).contains { $0.stringValue == "*" || $0.stringValue == value }
    }

    /// `*`, an exact path, or a prefix ending in `/*` (`/healthz/*` matches `/healthz/etcd`).
    static func url(_ pattern: String, matches path: String) -> Bool {
        if pattern == "*" || pattern == path { return true }
        guard pattern.hasSuffix("*") else { return false }
        return path.hasPrefix(pattern.dropLast())
    }
}

/// The FlowSchemas in matching order: lowest precedence first, then by name.
struct FlowClassifier: Sendable {
    let schemas: [CompiledFlowSchema]

    init(_ schemas: [CompiledFlowSchema]) {
        self.schemas = schemas.sorted { ($0.precedence, $0.name) < ($1.precedence, $1.name) }
    }

    /// The first schema that matches; one whose priority level does not exist (`hasLevel` false) is dangling and
    /// ignored.
    func classify(_ digest: RequestDigest, hasLevel: (String) -> Bool) -> CompiledFlowSchema? {
        schemas.first { hasLevel($0.priorityLevel) && $0.matches(digest) }
    }
}
