/// Escalation prevention, as upstream's `Covers` (`pkg/registry/rbac/validation/policy_comparator.go`): a user may
/// grant only what the rules they hold already cover. Each requested rule is broken into single-verb,
/// single-resource (and single-name) rules, and every one of those must fit inside one owned rule.
public enum RuleCoverage {
    /// The requested rules' pieces that `owned` does not cover (empty: the owner covers them all).
    public static func uncovered(owned: [PolicyRule], requested: [PolicyRule]) -> [PolicyRule] {
        var missing: [PolicyRule] = []
        for rule in requested {
            for piece in breakdown(rule) where !owned.contains(where: { covers($0, piece) }) {
                missing.append(piece)
            }
        }
        return missing
    }

    /// One rule per group × resource × name × verb, or per URL × verb.
    static func breakdown(_ rule: PolicyRule) -> [PolicyRule] {
        var pieces: [PolicyRule] = []
        for group in rule.apiGroups {
            for resource in rule.resources {
                for verb in rule.verbs {
                    if rule.resourceNames.isEmpty {
                        pieces.append(PolicyRule(verbs: [verb], apiGroups: [group], resources: [resource]))
                    } else {
                        for name in rule.resourceNames {
                            pieces.append(PolicyRule(verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name]))
                        }
                    }
                }
            }
        }
        for url in rule.nonResourceURLs {
            for verb in rule.verbs { pieces.append(PolicyRule(verbs: [verb], nonResourceURLs: [url])) }
        }
        return pieces
    }

    /// Whether `owner` covers everything `piece` (a single-valued rule) allows.
    static func covers(_ owner: PolicyRule, _ piece: PolicyRule) -> Bool {
        guard allCovered(owner.verbs, piece.verbs) else { return false }
        if !piece.nonResourceURLs.isEmpty {
            return piece.nonResourceURLs.allSatisfy { url in owner.nonResourceURLs.contains { PolicyRule.url($0, matches: url) } }
        }
        guard allCovered(owner.apiGroups, piece.apiGroups) else { return false }
        let resourcesCovered = piece.resources.allSatisfy { resource in
            owner.resources.contains { own in
                if own == "*" || own == resource { return true }
                // `*/status` covers `pods/status`.
                guard own.hasPrefix("*/"), let slash = resource.firstIndex(of: "/") else { return false }
                return own.dropFirst(2) == resource[resource.index(after: slash)...]
            }
        }
        guard resourcesCovered else { return false }
        if owner.resourceNames.isEmpty { return true }
        return !piece.resourceNames.isEmpty && piece.resourceNames.allSatisfy(owner.resourceNames.contains)
    }

    static func allCovered(_ owner: [String], _ wanted: [String]) -> Bool {
        owner.contains("*") || wanted.allSatisfy(owner.contains)
    }
}

extension RuleCoverage {
    /// Upstream's refusal: `user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions
    /// not currently held:` and the missing rules, one per line.
    public static func escalationMessage(user: UserInfo, missing: [PolicyRule], errors: [String]) -> String {
        var message = "user \(quoted(user.name)) (groups=\(quoted(user.groups))) is attempting to grant RBAC permissions not currently held:\n"
            + missing.map(\.compactDescription).joined(separator: "\n")
        if !errors.isEmpty { message += "; resolution errors: " + RBACPolicy.aggregate(errors) }
        return message
    }
}
