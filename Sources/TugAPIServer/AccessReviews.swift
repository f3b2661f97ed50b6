import Hummingbird
import TugAPI
import TugAPIMachinery
import TugAuth

/// The review APIs, answered from the same authenticator and authorizer chain every request goes through:
/// SelfSubjectAccessReview, SubjectAccessReview and LocalSubjectAccessReview (may this user do that?),
/// SelfSubjectRulesReview (what may I do in this namespace?), SelfSubjectReview (who am I?) and TokenReview
/// (whose token is this?). `kubectl auth can-i [--list] [--as]` and `kubectl auth whoami` read them.
extension APIServer {
    func handleReview(_ request: Request, group: String, version: String, resource: String, namespace: String?,
                      user: UserInfo) async throws -> Response {
        guard let review = Discovery.reviewGroups.first(where: { $0.group == group && $0.version == version && $0.resource == resource }),
              review.namespaced == (namespace != nil), let schema = SideKinds.schema(kind: review.kind) else { throw StatusError.notFoundPath() }
        var req = request
        let body = try await collect(&req)
        var object: JSONValue = .emptyObject
        if !body.isEmpty {
            let target = BodyDecoding.Target(kind: review.kind, apiVersions: ["\(group)/\(version)"], schema: schema)
            object = try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", target: target, validation: .ignore).object
        }
        object.kind = review.kind
        object.apiVersion = "\(group)/\(version)"
        if object["metadata"].isNull { object["metadata"] = ["creationTimestamp": .null] }
        switch review.kind {
        case "SelfSubjectAccessReview":
            object["status"] = try accessReview(object["spec"], kind: review.kind, as: user)
        case "SubjectAccessReview":
            object["status"] = try accessReview(object["spec"], kind: review.kind, as: try Self.subject(of: object["spec"], kind: review.kind))
        case "LocalSubjectAccessReview":
            let spec = object["spec"]
            if !spec["nonResourceAttributes"].isNull {
                throw StatusError.badRequest("disallowed on this kind of request")
            }
            let asked = spec["resourceAttributes"]["namespace"].stringValue ?? ""
            if asked != namespace {
                throw StatusError.badRequest("spec.resourceAttributes.namespace must match namespace: \(namespace ?? "")")
            }
            object["metadata"]["namespace"] = .string(namespace ?? "")
            object["status"] = try accessReview(spec, kind: review.kind, as: try Self.subject(of: spec, kind: review.kind))
        case "SelfSubjectRulesReview":
            object["status"] = rulesReview(namespace: object["spec"]["namespace"].stringValue ?? "", user: user)
        case "SelfSubjectReview":
            object["status"] = ["userInfo": Self.json(user)]
        case "TokenReview":
            object["status"] = tokenReview(object["spec"])
        default:
            throw StatusError.notFoundPath()
        }
        return Responses.json(object, status: .created)
    }

    /// The status of an access review: whether the chain allows the attributes for `user`.
    func accessReview(_ spec: JSONValue, kind: String, as user: UserInfo) throws(StatusError) -> JSONValue {
        let resource = spec["resourceAttributes"], nonResource = spec["nonResourceAttributes"]
        guard resource.isNull != nonResource.isNull else {
            throw .invalid(kind: kind, group: "authorization.k8s.io", name: "", errors: FieldErrorList([
                FieldError(.invalid, field: "spec.resourceAttributes", value: resource.isNull ? .null : "{...}",
                           detail: "exactly one of nonResourceAttributes or resourceAttributes must be specified"),
            ]))
        }
        let attributes: AuthorizationAttributes
        if resource.isNull {
            attributes = AuthorizationAttributes(user: user, verb: nonResource["verb"].stringValue ?? "", path: nonResource["path"].stringValue ?? "")
        } else {
            attributes = AuthorizationAttributes(
                user: user, verb: resource["verb"].stringValue ?? "", apiGroup: resource["group"].stringValue ?? "",
                apiVersion: resource["version"].stringValue ?? "", resource: resource["resource"].stringValue ?? "",
                subresource: resource["subresource"].stringValue ?? "", namespace: resource["namespace"].stringValue ?? "",
                name: resource["name"].stringValue ?? "")
        }
        let decision = store.authorization.authorize(attributes)
        var status: JSONValue = ["allowed": .bool(decision.allowed)]
        if decision.kind == .deny { status["denied"] = true }
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return status
    }

    /// The user a SubjectAccessReview asks about (user or groups required, as upstream validates).
    static func subject(of spec: JSONValue, kind: String) throws(StatusError) -> UserInfo {
        let name = spec["user"].stringValue ?? ""
        let groups = (spec["groups"].arrayValue ?? []).compactMap(\.stringValue)
        guard !name.isEmpty || !groups.isEmpty else {
            throw .invalid(kind: kind, group: "authorization.k8s.io", name: "", errors: FieldErrorList([
                FieldError(.invalid, field: "spec.user", value: "", detail: "at least one of user or group must be specified"),
            ]))
        }
        var extra: [String: [String]] = [:]
        for (key, values) in spec["extra"].objectValue ?? [:] { extra[key] = (values.arrayValue ?? []).compactMap(\.stringValue) }
        return UserInfo(name: name, uid: spec["uid"].stringValue ?? "", groups: groups, extra: extra)
    }

    /// What `user` may do in `namespace`, as the resolving authorizers (RBAC) list it.
    func rulesReview(namespace: String, user: UserInfo) -> JSONValue {
        let found = store.authorization.rules(for: user, namespace: namespace)
        var resourceRules: [JSONValue] = [], nonResourceRules: [JSONValue] = []
        for rule in found.rules {
            if rule.nonResourceURLs.isEmpty {
                var json: JSONValue = ["verbs": Self.strings(rule.verbs), "apiGroups": Self.strings(rule.apiGroups), "resources": Self.strings(rule.resources)]
                if !rule.resourceNames.isEmpty { json["resourceNames"] = Self.strings(rule.resourceNames) }
                resourceRules.append(json)
            } else {
                nonResourceRules.append(["verbs": Self.strings(rule.verbs), "nonResourceURLs": Self.strings(rule.nonResourceURLs)])
            }
        }
        var status: JSONValue = ["resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules),
                                 "incomplete": .bool(!found.errors.isEmpty)]
        if !found.errors.isEmpty { status["evaluationError"] = .string(found.errors.joined(separator: ", ")) }
        return status
    }

    /// Whose token `spec.token` is, for the audiences asked about (the API server's own when none are).
    func tokenReview(_ spec: JSONValue) -> JSONValue {
        let asked = (spec["audiences"].arrayValue ?? []).compactMap(\.stringValue)
        let audiences = asked.isEmpty ? [tokens.issuer] : asked
        guard let token = spec["token"].stringValue, let (user, matched) = authenticateToken(token, audiences: audiences) else {
            return ["authenticated": false, "user": .emptyObject, "error": "[invalid bearer token, token lookup failed]"]
        }
        return ["authenticated": true, "user": Self.json(user), "audiences": Self.strings(matched)]
    }

    static func json(_ user: UserInfo) -> JSONValue {
        var json: JSONValue = ["username": .string(user.name), "groups": strings(user.groups)]
        if !user.uid.isEmpty { json["uid"] = .string(user.uid) }
        if !user.extra.isEmpty { json["extra"] = .object(JSONObject(user.extra.sorted { $0.key < $1.key }.map { ($0.key, strings($0.value)) })) }
        return json
    }

    static func strings(_ list: [String]) -> JSONValue { .array(list.map(JSONValue.string)) }
}
