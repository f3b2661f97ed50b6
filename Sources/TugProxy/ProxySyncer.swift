/// Applies rendered rules: a full sync the first time (and after any failure), a delta against what was applied
/// after that. The step the proxy runs on every change, and the one `tug bench services` times.
public actor ProxySyncer {
    public let rules: ProxyRules
    let iptables: IPTables
    private var applied: RuleSet?

    public struct Outcome: Sendable {
        /// Whether this was a full sync (every chain rewritten).
        public var full: Bool
        /// Lines given to iptables-restore (0 when nothing changed).
        public var lines: Int
        public var rules: Int
    }

    public init(rules: ProxyRules, iptables: IPTables) {
        self.rules = rules
        self.iptables = iptables
    }

    /// Brings the kernel's rules to those of `ports`.
    @discardableResult
    public func sync(_ ports: [ServicePort]) async throws -> Outcome {
        let desired = rules.render(ports)
        let document: String?
        let full: Bool
        if let applied {
            document = RestoreDocument.delta(from: applied, to: desired)
            full = false
        } else {
            let existing = RestoreDocument.Existing(save: try await iptables.save(), names: rules.names)
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
