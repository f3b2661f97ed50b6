import TugAPI
import TugAPIMachinery

/// Legacy and aggregated (apidiscovery.k8s.io/v2) discovery documents, built from the scheme.
struct Discovery {
    let scheme: Scheme
    let serverAddress: String

    /// Non-stored endpoints advertised in discovery (reviews).
    static let reviewGroups: [(group: String, version: String, resource: String, kind: String, namespaced: Bool)] = [
        ("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", true),
        ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
        ("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", false),
        ("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false),
        ("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", false),
        ("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false),
    ]

    var groupVersions: [(group: String, version: String)] {
        var out: [(String, String)] = []
        for (group, versions) in scheme.groups where !group.isEmpty { for v in versions { out.append((group, v)) } }
        for r in Self.reviewGroups where !out.contains(where: { $0.0 == r.group && $0.1 == r.version }) { out.append((r.group, r.version)) }
        return out
    }

    var apiVersions: JSONValue {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    func group(_ name: String) -> JSONValue? {
        let versions = groupVersions.filter { $0.group == name }
        guard let first = versions.first else { return nil }
        let vs: [JSONValue] = versions.map { ["groupVersion": .string("\($0.group)/\($0.version)"), "version": .string($0.version)] }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array(vs),
                "preferredVersion": ["groupVersion": .string("\(first.group)/\(first.version)"), "version": .string(first.version)]]
    }

    var groupList: JSONValue {
        var seen: [String] = []
        for gv in groupVersions where !seen.contains(gv.group) { seen.append(gv.group) }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(seen.compactMap { var g = group($0); g?["kind"] = .null; g?["apiVersion"] = .null; return g })]
    }

    func resourceList(group: String, version: String) -> JSONValue? {
        var resources: [JSONValue] = []
        for d in scheme.resources(group: group, version: version) {
            var r: JSONValue = ["name": .string(d.resource), "singularName": .string(d.singular), "namespaced": .bool(d.namespaced),
                                "kind": .string(d.kind), "verbs": .array(d.verbs.map(JSONValue.string)), "storageVersionHash": .string(hash(d))]
            if !d.shortNames.isEmpty { r["shortNames"] = .array(d.shortNames.map(JSONValue.string)) }
            if !d.categories.isEmpty { r["categories"] = .array(d.categories.map(JSONValue.string)) }
            resources.append(r)
            for s in d.subresources {
                var sub: JSONValue = ["name": .string("\(d.resource)/\(s.name)"), "singularName": "", "namespaced": .bool(d.namespaced),
                                      "kind": .string(s.kind), "verbs": .array(s.verbs.map(JSONValue.string))]
                if s.group != d.group || s.version != d.version { sub["group"] = .string(s.group); sub["version"] = .string(s.version) }
                resources.append(sub)
            }
        }
        for r in Self.reviewGroups where r.group == group && r.version == version {
            resources.append(["name": .string(r.resource), "singularName": .string(r.kind.lowercased()), "namespaced": .bool(r.namespaced),
                              "kind": .string(r.kind), "verbs": ["create"]])
        }
        guard !resources.isEmpty else { return nil }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(resources)]
    }

    /// apidiscovery.k8s.io/v2 APIGroupDiscoveryList for `/api` (core only) or `/apis`.
    func aggregated(core: Bool) -> JSONValue {
        var items: [JSONValue] = []
        let groups: [String] = core ? [""] : {
            var seen: [String] = []
            for gv in groupVersions where !seen.contains(gv.group) { seen.append(gv.group) }
            return seen
        }()
        for g in groups {
            let versions: [JSONValue] = groupVersions.filter { $0.group == g }.map { $0.version }.ifEmpty(core ? ["v1"] : []).map { v in
                var resources: [JSONValue] = []
                for d in scheme.resources(group: g, version: v) {
                    var r: JSONValue = ["resource": .string(d.resource), "responseKind": ["group": .string(d.group), "version": .string(d.version), "kind": .string(d.kind)],
                                        "scope": .string(d.namespaced ? "Namespaced" : "Cluster"), "singularResource": .string(d.singular),
                                        "verbs": .array(d.verbs.map(JSONValue.string))]
                    if !d.shortNames.isEmpty { r["shortNames"] = .array(d.shortNames.map(JSONValue.string)) }
                    if !d.categories.isEmpty { r["categories"] = .array(d.categories.map(JSONValue.string)) }
                    if !d.subresources.isEmpty {
                        r["subresources"] = .array(d.subresources.map { s in
                            ["subresource": .string(s.name), "responseKind": ["group": .string(s.group), "version": .string(s.version), "kind": .string(s.kind)],
                             "verbs": .array(s.verbs.map(JSONValue.string))]
                        })
                    }
                    resources.append(r)
                }
                for r in Self.reviewGroups where r.group == g && r.version == v {
                    resources.append(["resource": .string(r.resource), "responseKind": ["group": .string(g), "version": .string(v), "kind": .string(r.kind)],
                                      "scope": r.namespaced ? "Namespaced" : "Cluster", "singularResource": .string(r.kind.lowercased()), "verbs": ["create"]])
                }
                return ["version": .string(v), "freshness": "Current", "resources": .array(resources)]
            }
            items.append(["metadata": ["name": .string(g)], "versions": .array(versions)])
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": .emptyObject, "items": .array(items)]
    }

    func hash(_ d: ResourceDefinition) -> String {
        var h: UInt64 = 1469598103934665603
        for b in "\(d.groupVersion)/\(d.kind)".utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return Base64.encode(withUnsafeBytes(of: h.bigEndian) { Array($0) }).replacingOccurrences(of: "=", with: "")
    }
}

extension Array {
    func ifEmpty(_ fallback: [Element]) -> [Element] { isEmpty ? fallback : self }
}
