import Foundation
import HTTPTypes
import TugAPIMachinery
import TugAuth

/// The impersonation stage, as upstream's `WithImpersonation`: `Impersonate-User`, `-Group`, `-Uid` and
/// `-Extra-<key>` headers make the request run as another user, once the authenticated user may `impersonate`
/// each of them (users, groups, service accounts, uids, user extras).
extension APIServer {
    static let impersonateUser = HTTPField.Name("Impersonate-User")!
    static let impersonateGroup = HTTPField.Name("Impersonate-Group")!
    static let impersonateUid = HTTPField.Name("Impersonate-Uid")!
    static let impersonateExtraPrefix = "impersonate-extra-"

    /// The user the request acts as: `user` itself when no impersonation header is present.
    func impersonate(_ headers: HTTPFields, as user: UserInfo) throws(StatusError) -> UserInfo {
        let name = headers[Self.impersonateUser]
        let groups = headers[values: Self.impersonateGroup]
        let uid = headers[Self.impersonateUid]
        var extra: [String: [String]] = [:]
        for field in headers where field.name.canonicalName.hasPrefix(Self.impersonateExtraPrefix) {
            let key = String(field.name.canonicalName.dropFirst(Self.impersonateExtraPrefix.count))
            extra[key.removingPercentEncoding ?? key, default: []].append(field.value)
        }
        guard let name else {
            if !groups.isEmpty || uid != nil || !extra.isEmpty {
                throw .badRequest("requested impersonation of groups, a uid or extra attributes without impersonating a user")
            }
            return user
        }
        var checks: [AuthorizationAttributes] = []
        if let account = UserInfo.serviceAccountParts(name) {
            checks.append(AuthorizationAttributes(user: user, verb: "impersonate", apiGroup: "", resource: "serviceaccounts",
                                                  namespace: account.namespace, name: account.name))
        } else {
            checks.append(AuthorizationAttributes(user: user, verb: "impersonate", apiGroup: "", resource: "users", name: name))
        }
        for group in groups {
            checks.append(AuthorizationAttributes(user: user, verb: "impersonate", apiGroup: "", resource: "groups", name: group))
        }
        if let uid {
            checks.append(AuthorizationAttributes(user: user, verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "uids", name: uid))
        }
        for (key, values) in extra.sorted(by: { $0.key < $1.key }) {
            for value in values {
                checks.append(AuthorizationAttributes(user: user, verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "userextras",
                                                      subresource: key, name: value))
            }
        }
        for check in checks {
            let decision = store.authorization.authorize(check)
            guard decision.allowed else { throw Self.forbidden(check, reason: decision.reason) }
        }
        return Self.impersonated(name: name, groups: groups, uid: uid ?? "", extra: extra)
    }

    /// The impersonated user with the groups upstream adds: a service account's, and `system:authenticated` for
    /// anyone but `system:anonymous` (who gets `system:unauthenticated`).
    static func impersonated(name: String, groups: [String], uid: String, extra: [String: [String]]) -> UserInfo {
        var all = groups
        if let account = UserInfo.serviceAccountParts(name) {
            for group in ["system:serviceaccounts", "system:serviceaccounts:\(account.namespace)"] where !all.contains(group) { all.append(group) }
        }
        let implied = name == UserInfo.anonymous.name ? UserInfo.unauthenticatedGroup : UserInfo.authenticatedGroup
        if !all.contains(implied) { all.append(implied) }
        return UserInfo(name: name, uid: uid, groups: all, extra: extra)
    }
}
