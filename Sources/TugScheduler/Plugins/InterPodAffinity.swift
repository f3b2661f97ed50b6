/// Required pod affinity and anti-affinity (a node fits only if pods matching the terms are, or are not, in the
/// same topology domain, and no pod already placed forbids this one near it) and preferred terms as a score.
struct InterPodAffinity: PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
    let name = "InterPodAffinity"
    let weight: Int64 = 2

    struct TopologyPair: Hashable, Sendable {
        var key: String
        var value: String
    }

    struct Counts: Sendable {
        /// Per required affinity term: matching pods per topology value.
        var affinity: [[String: Int]]
        /// Whether any pod anywhere matches all the affinity terms (if none, the first pod of a group may go
        /// where its own labels satisfy them).
        var anyAffinityMatch: Bool
        /// Per required anti-affinity term of the incoming pod: topology values that hold a matching pod.
        var antiAffinity: [Set<String>]
        /// Topology values, by key, where an existing pod's anti-affinity forbids the incoming pod.
        var forbiddenByExisting: [String: Set<String>]
    }

    struct Preferences: Sendable {
        var scores: [TopologyPair: Int64]
    }

    func preFilter(_ state: inout CycleState, pod: PodInfo, cluster: ClusterState) {
        let labels = { (ns: String) in cluster.namespaceLabels[ns] ?? [:] }
        var forbidden: [String: Set<String>] = [:]
        for (existing, nodeName) in cluster.podsWithRequiredAntiAffinity {
            guard let node = cluster.node(nodeName) else { continue }
            for term in existing.antiAffinity where term.matches(pod, namespaceLabels: labels) {
                if let value = node.labels[term.topologyKey] { forbidden[term.topologyKey, default: []].insert(value) }
            }
        }
        guard !pod.affinity.isEmpty || !pod.antiAffinity.isEmpty else {
            if !forbidden.isEmpty { state[Counts.self] = Counts(affinity: [], anyAffinityMatch: true, antiAffinity: [], forbiddenByExisting: forbidden) }
            return
        }
        var affinity = Array(repeating: [String: Int](), count: pod.affinity.count)
        var anti = Array(repeating: Set<String>(), count: pod.antiAffinity.count)
        var anyMatch = false
        for node in cluster.nodes {
            for existing in node.pods.values where !existing.terminal && existing.uid != pod.uid {
                if !pod.affinity.isEmpty, pod.affinity.allSatisfy({ $0.matches(existing, namespaceLabels: labels) }) { anyMatch = true }
                for (i, term) in pod.affinity.enumerated() where term.matches(existing, namespaceLabels: labels) {
                    if let value = node.labels[term.topologyKey] { affinity[i][value, default: 0] += 1 }
                }
                for (i, term) in pod.antiAffinity.enumerated() where term.matches(existing, namespaceLabels: labels) {
                    if let value = node.labels[term.topologyKey] { anti[i].insert(value) }
                }
            }
        }
        state[Counts.self] = Counts(affinity: affinity, anyAffinityMatch: anyMatch, antiAffinity: anti, forbiddenByExisting: forbidden)
    }

    func filters(_ pod: PodInfo, state: CycleState) -> Bool { state[Counts.self] != nil }

    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus {
        guard let counts = state[Counts.self] else { return .success }
        if !pod.affinity.isEmpty {
            if counts.anyAffinityMatch {
                for (i, term) in pod.affinity.enumerated() {
                    guard let value = node.labels[term.topologyKey], counts.affinity[i][value, default: 0] > 0 else {
                        return .unschedulable("node(s) didn't match pod affinity rules")
                    }
                }
            } else {
                // No pod matches yet: allowed only for a pod that matches its own terms, on a node with the keys.
                let selfMatch = pod.affinity.allSatisfy { $0.namespaces.contains(pod.namespace) && ($0.selector?.matches(pod.label) ?? false) }
                if !selfMatch || pod.affinity.contains(where: { node.labels[$0.topologyKey] == nil }) {
                    return .unresolvable("node(s) didn't match pod affinity rules")
                }
            }
        }
        for (i, term) in pod.antiAffinity.enumerated() {
            if let value = node.labels[term.topologyKey], counts.antiAffinity[i].contains(value) {
                return .unschedulable("node(s) didn't match pod anti-affinity rules")
            }
        }
        for (key, values) in counts.forbiddenByExisting {
            if let value = node.labels[key], values.contains(value) {
                return .unschedulable("node(s) didn't satisfy existing pods anti-affinity rules")
            }
        }
        return .success
    }

    func preScore(_ state: inout CycleState, pod: PodInfo, cluster: ClusterState) {
        guard !pod.preferredAffinity.isEmpty || !pod.preferredAntiAffinity.isEmpty else { return }
        let labels = { (ns: String) in cluster.namespaceLabels[ns] ?? [:] }
        var scores: [TopologyPair: Int64] = [:]
        for node in cluster.nodes {
            for existing in node.pods.values where !existing.terminal {
                for term in pod.preferredAffinity where term.matches(existing, namespaceLabels: labels) {
                    if let value = node.labels[term.topologyKey] { scores[TopologyPair(key: term.topologyKey, value: value), default: 0] += term.weight }
                }
                for term in pod.preferredAntiAffinity where term.matches(existing, namespaceLabels: labels) {
                    if let value = node.labels[term.topologyKey] { scores[TopologyPair(key: term.topologyKey, value: value), default: 0] -= term.weight }
                }
            }
        }
        state[Preferences.self] = Preferences(scores: scores)
    }

    func scores(_ pod: PodInfo, state: CycleState) -> Bool { state[Preferences.self] != nil }

    func score(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        guard let preferences = state[Preferences.self] else { return 0 }
        return preferences.scores.reduce(0) { total, entry in node.labels[entry.key.key] == entry.key.value ? total + entry.value : total }
    }

    func normalize(_ scores: inout [Int64]) { ScoreNormalization.byRange(&scores) }
}
