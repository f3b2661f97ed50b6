/// The iptables state the proxy wants: for each table, its own chains with their rules (the arguments after
/// `-A <chain>`, in order) and the jumps into them from the built-in chains. A value, compared and diffed against
/// what was applied last.
public struct RuleSet: Sendable, Equatable {
    public struct Jump: Sendable, Hashable {
        /// A built-in chain: PREROUTING, OUTPUT, INPUT, FORWARD, POSTROUTING.
        public var from: String
        public var rule: String
    }

    public struct Table: Sendable, Equatable {
        public var chains: [String: [String]] = [:]
        /// Chains whose rules match disjoint packets, so their order does not matter: a change to them is applied
        /// as `-D`/`-A` of the rules that changed instead of rewriting the chain (the per-Service rules of the big
        /// dispatch chains, which would otherwise be rewritten in full on every change).
        public var unordered: Set<String> = []
        public var jumps: [Jump] = []

        mutating func append(_ chain: String, _ rule: String) { chains[chain, default: []].append(rule) }
        mutating func declare(_ chain: String) { if chains[chain] == nil { chains[chain] = [] } }
    }

    /// `filter` and `nat`.
    public var tables: [String: Table] = [:]

    public init() {}

    public static let tableOrder = ["filter", "nat"]

    /// Every rule in all tables (for figures and tests).
    public var ruleCount: Int { tables.values.reduce(0) { $0 + $1.chains.values.reduce(0) { $0 + $1.count } } }
}
