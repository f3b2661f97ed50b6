/// Applies RuleSets for one owner of chains (`names`): a full sync the first time (and after any failure), a delta
/// against what was applied after that. The service proxy and the NetworkPolicy enforcer each have one.
public actor RuleSetApplier {
    public let names: ChainNames
    let iptables: IPTables
    private var applied: RuleSet?

    public struct Outcome: Sendable {
        /// Whether this was a full sync (every chain rewritten).
        public var full: Bool
        /// Lines given to iptables-restore (0 when nothing changed).
        public var lines: Int
        public var rules: Int
    }

    public init(names: ChainNames, iptables: IPTables) {
        self.names = names
        self.iptables = iptables
    }

    /// Brings the kernel's chains of `names` to `desired`.
    @discardableResult
    public func apply(_ desired: RuleSet) async throws -> Outcome {
        let document: String?
        let full: Bool
        if let applied {
            document = RestoreDocument.delta(from: applied, to: desired)
            full = false
        } else {
            let existing = RestoreDocument.Existing(save: try await iptables.save(), names: names)
            document = RestoreDocument.full(desired, existing: existing)
            full = true
        }
        if let document {
            applied = nil
            try await iptables.restore(document)
        }
        applied = desired
        return Outcome(full: full, lines: document.map { $0.utf8.reduce(0) { $1 == 10 ? $0 + 1 : $0 } } ?? 0, rules: desired.ruleCount)
    }

    /// Forgets what was applied, so the next sync is a full one.
    public func invalidate() { applied = nil }
}
