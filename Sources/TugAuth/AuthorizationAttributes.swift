/// What a request asks to do, as upstream's `authorizer.Attributes`: a verb on a resource (with its group,
/// subresource, namespace and name) or on a non-resource path.
public struct AuthorizationAttributes: Sendable, Hashable {
    public var user: UserInfo
    public var verb: String
    public var isResourceRequest: Bool
    /// The request path (what non-resource rules match).
    public var path: String
    public var apiGroup: String
    public var apiVersion: String
    public var resource: String
    public var subresource: String
    /// Empty for a cluster-scoped request (a cluster-scoped kind, or a request across all namespaces).
    public var namespace: String
    public var name: String

    public init(user: UserInfo, verb: String, apiGroup: String, apiVersion: String = "", resource: String,
                subresource: String = "", namespace: String = "", name: String = "") {
        self.user = user
        self.verb = verb
        self.isResourceRequest = true
        self.path = ""
        self.apiGroup = apiGroup
        self.apiVersion = apiVersion
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
    }

    public init(user: UserInfo, verb: String, path: String) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = false
        self.path = path
        self.apiGroup = ""
        self.apiVersion = ""
        self.resource = ""
        self.subresource = ""
        self.namespace = ""
        self.name = ""
    }

    /// `pods`, or `pods/log` for a subresource (what rules name).
    public var combinedResource: String { subresource.isEmpty ? resource : "\(resource)/\(subresource)" }

    /// The sentence upstream's 403 carries: `User "jane" cannot list resource "pods" in API group "" in the
    /// namespace "default"`, or `... at the cluster scope`, or `User "jane" cannot get path "/metrics"`.
    public var forbiddenSentence: String {
        guard isResourceRequest else { return "User \(quoted(user.name)) cannot \(verb) path \(quoted(path))" }
        let scope = namespace.isEmpty ? "at the cluster scope" : "in the namespace \(quoted(namespace))"
        return "User \(quoted(user.name)) cannot \(verb) resource \(quoted(combinedResource)) in API group \(quoted(apiGroup)) \(scope)"
    }
}

/// A string as Go's `%q` prints it (the form upstream's messages use).
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\x" + String(scalar.value, radix: 16).leftPadded(2) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

/// A list of strings as Go's `%q` prints a `[]string`: `["a" "b"]`.
func quoted(_ list: [String]) -> String {
    "[" + list.map { quoted($0) }.joined(separator: " ") + "]"
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
