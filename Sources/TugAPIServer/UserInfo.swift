/// Who made a request, as authentication establishes it: a user name and the groups it belongs to (what API Priority
/// and Fairness classifies on, and what authorization will check).
public struct UserInfo: Sendable, Hashable {
    public var name: String
    public var groups: [String]

    public init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups
    }

    /// The cluster administrator: `system:masters`, whose requests are exempt from flow control.
    public static let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])
    /// The node agents' shared identity.
    public static let node = UserInfo(name: "system:node", groups: ["system:nodes", "system:authenticated"])
    /// A request without credentials (only the public paths are served to it).
    public static let anonymous = UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])

    /// A service account's user, with upstream's groups.
    public static func serviceAccount(namespace: String, name: String) -> UserInfo {
        UserInfo(name: "system:serviceaccount:\(namespace):\(name)",
                 groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
    }
}
