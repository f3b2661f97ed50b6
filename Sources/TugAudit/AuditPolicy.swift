public import TugAuth
import TugAPIMachinery

/// How much of a request the audit log keeps (`audit.k8s.io/v1` Level), in increasing order.
public enum AuditLevel: String, Sendable, Comparable, CaseIterable {
    case none = "None"
    case metadata = "Metadata"
    case request = "Request"
    case requestResponse = "RequestResponse"

    public static func < (a: AuditLevel, b: AuditLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// When during a request an event is written (`audit.k8s.io/v1` Stage).
public enum AuditStage: String, Sendable, CaseIterable {
    case requestReceived = "RequestReceived"
    case responseStarted = "ResponseStarted"
    case responseComplete = "ResponseComplete"
    case panic = "Panic"
}

/// kube-apiserver's `--audit-policy-file` (`audit.k8s.io/v1` Policy): the first rule that matches a request sets
/// its level and the stages left out; no rule matching means None. Matching is upstream's `policy.Checker`.
public struct AuditPolicy: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var level: AuditLevel
        public var users: [String] = []
        public var userGroups: [String] = []
        public var verbs: [String] = []
        public var resources: [GroupResources] = []
        /// "" matches cluster-scoped requests.
        public var namespaces: [String] = []
        public var nonResourceURLs: [String] = []
        /// The rule's own and the policy's, together.
        public var omitStages: Set<AuditStage> = []
        public var omitManagedFields: Bool?

        public init(level: AuditLevel) {
            self.level = level
        }
    }

    public struct GroupResources: Sendable, Equatable {
        public var group: String
        /// `pods`, `pods/log`, `*`, `*/status`, `pods/*`; empty means every resource of the group.
        public var resources: [String]
        public var resourceNames: [String]
    }

    public var rules: [Rule]
    public var omitStages: Set<AuditStage>
    public var omitManagedFields: Bool

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(rules: [Rule], omitStages: Set<AuditStage> = [], omitManagedFields: Bool = false) {
        self.omitStages = omitStages
        self.omitManagedFields = omitManagedFields
        self.rules = rules.map { rule in
            var rule = rule
            rule.omitStages.formUnion(omitStages)
            return rule
        }
    }

    /// The level, stages to leave out and whether to drop managedFields for a request.
    public func decide(_ attributes: AuthorizationAttributes?) -> (level: AuditLevel, omitStages: Set<AuditStage>, omitManagedFields: Bool) {
        for rule in rules where Self.matches(rule, attributes) {
            return (rule.level, rule.omitStages, rule.omitManagedFields ?? omitManagedFields)
        }
        return (.none, omitStages, omitManagedFields)
    }

    /// `attributes` nil: a request whose user is not known (it failed authentication); user rules never match it.
    static func matches(_ rule: Rule, _ attributes: AuthorizationAttributes?) -> Bool {
        let user = attributes?.user
        if !rule.users.isEmpty, !(user.map { rule.users.contains($0.name) } ?? false) { return false }
        if !rule.userGroups.isEmpty, !(user.map { $0.groups.contains(where: rule.userGroups.contains) } ?? false) { return false }
        if !rule.verbs.isEmpty, !rule.verbs.contains(attributes?.verb ?? "") { return false }
        if !rule.namespaces.isEmpty || !rule.resources.isEmpty {
            guard let attributes, attributes.isResourceRequest else { return false }
            if !rule.namespaces.isEmpty, !rule.namespaces.contains(attributes.namespace) { return false }
            return rule.resources.isEmpty || rule.resources.contains { matches($0, attributes) }
        }
        if !rule.nonResourceURLs.isEmpty {
            guard let attributes, !attributes.isResourceRequest else { return false }
            return rule.nonResourceURLs.contains { spec in
                spec == "*" || spec == attributes.path || (spec.hasSuffix("*") && attributes.path.hasPrefix(spec.dropLast()))
            }
        }
        return true
    }

    static func matches(_ group: GroupResources, _ attributes: AuthorizationAttributes) -> Bool {
        guard group.group == attributes.apiGroup else { return false }
        if group.resources.isEmpty { return true }
        guard group.resourceNames.isEmpty || group.resourceNames.contains(attributes.name) else { return false }
        let sub = attributes.subresource
        let combined = sub.isEmpty ? attributes.resource : "\(attributes.resource)/\(sub)"
        return group.resources.contains { spec in
            spec == "*" || spec == combined
                || (!sub.isEmpty && spec.hasPrefix("*/") && spec.dropFirst(2) == sub)
                || (spec.hasSuffix("/*") && spec.dropLast(2) == attributes.resource)
        }
    }
}
