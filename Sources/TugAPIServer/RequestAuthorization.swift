import Hummingbird
import HTTPTypes
import TugAPIMachinery
import TugAuth

/// The authorization stage of the request pipeline: what a request asks to do, as upstream's RequestInfo and
/// `authorizer.Attributes`, checked against the cluster's authorizer chain, with upstream's 403 when denied.
extension APIServer {
    /// The attributes to authorize (all must be allowed): one for most requests; a WebSocket `GET` of
    /// `pods/exec`, `pods/attach` or `pods/portforward` also needs `create`, as kube-apiserver checks since 1.30.
    static func authorizationAttributes(method: HTTPRequest.Method, path: String, query: QueryParameters, user: UserInfo) -> [AuthorizationAttributes] {
        guard let info = RequestInfo.parse(path) else {
            return [AuthorizationAttributes(user: user, verb: method.rawValue.lowercased(), path: path)]
        }
        let watch = query.bool("watch")
        var name = info.name ?? ""
        let verb: String
        switch method {
        case .get, .head:
            if info.name == nil {
                verb = watch ? "watch" : "list"
                // A list or watch of one name (`fieldSelector=metadata.name=x`, as kubectl get -w NAME sends) is
                // authorized for that name.
                if let selector = try? FieldSelector.parse(query["fieldSelector"] ?? ""),
                   let only = selector.requirements.first(where: { $0.field == "metadata.name" && !$0.negated }) {
                    name = only.value
                }
            } else {
                verb = watch ? "watch" : "get"
            }
        case .post: verb = "create"
        case .put: verb = "update"
        case .patch: verb = "patch"
        case .delete: verb = info.name == nil ? "deletecollection" : "delete"
        default: verb = method.rawValue.lowercased()
        }
        var namespace = info.namespace ?? ""
        // A namespace is in itself: `get namespaces/foo` is allowed by a RoleBinding in foo.
        if info.group.isEmpty, info.resource == "namespaces", info.namespace == nil, let own = info.name { namespace = own }
        let attributes = AuthorizationAttributes(user: user, verb: verb, apiGroup: info.group, apiVersion: info.version, resource: info.resource,
                                                 subresource: info.subresource ?? "", namespace: namespace, name: name)
        if verb == "get", let sub = info.subresource, info.group.isEmpty, info.resource == "pods", ["exec", "attach", "portforward"].contains(sub) {
            var create = attributes
            create.verb = "create"
            return [attributes, create]
        }
        return [attributes]
    }

    /// Throws upstream's 403 unless the authorizer chain allows every attribute of the request; returns the
    /// authorizer's reason for allowing it (for the audit log).
    @discardableResult
    func authorize(method: HTTPRequest.Method, path: String, query: QueryParameters, user: UserInfo) throws(StatusError) -> String {
        var reason = ""
        for attributes in Self.authorizationAttributes(method: method, path: path, query: query, user: user) {
            let decision = store.authorization.authorize(attributes)
            guard decision.allowed else { throw Self.forbidden(attributes, reason: decision.reason) }
            reason = decision.reason
        }
        return reason
    }

    /// `pods "web" is forbidden: User "jane" cannot get resource "pods" in API group "" in the namespace "default"`,
    /// with the authorizer's reason after a colon when it gave one.
    static func forbidden(_ attributes: AuthorizationAttributes, reason: String) -> StatusError {
        let why = reason.isEmpty ? attributes.forbiddenSentence : "\(attributes.forbiddenSentence): \(reason)"
        guard attributes.isResourceRequest else {
            return StatusError(code: 403, reason: .forbidden, message: "forbidden: \(why)")
        }
        return .forbidden(GroupResource(group: attributes.apiGroup, resource: attributes.resource), name: attributes.name, why)
    }
}
