public import TugAPIMachinery

/// ClusterRole aggregation, as upstream's clusterrole-aggregation controller: a ClusterRole with an
/// `aggregationRule` holds the rules of every other ClusterRole its selectors match, taken in name order with
/// duplicates left out. Aggregated roles feed others (`view` is labelled into `edit`, `edit` into `admin`), so
/// repeating the pass until nothing changes settles the whole chain.
public enum ClusterRoleAggregation {
    /// The rules `role` should hold, or nil when it has no aggregation rule.
    public static func rules(for role: JSONValue, among roles: [JSONValue]) -> [JSONValue]? {
        guard let selectors = role["aggregationRule"]["clusterRoleSelectors"].arrayValue else { return nil }
        let parsed = selectors.compactMap { try? LabelSelector.from($0) }
        var rules: [JSONValue] = []
        var seen = Set<PolicyRule>()
        for other in roles.sorted(by: { $0.name < $1.name }) where other.name != role.name {
            let labels = other.labels
            guard parsed.contains(where: { $0.matches(labels) }) else { continue }
            for rule in other["rules"].arrayValue ?? [] where seen.insert(PolicyRule(json: rule)).inserted {
                rules.append(rule)
            }
        }
        return rules
    }
}
