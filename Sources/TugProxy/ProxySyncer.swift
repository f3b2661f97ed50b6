/// Renders and applies the proxy's rules: the step the proxy runs on every change, and the one
/// `tug bench services` times.
public actor ProxySyncer {
    public let rules: ProxyRules
    let applier: RuleSetApplier

    public typealias Outcome = RuleSetApplier.Outcome

    public init(rules: ProxyRules, iptables: IPTables) {
        self.rules = rules
        self.applier = RuleSetApplier(names: rules.names, iptables: iptables)
    }

    /// Brings the kernel's rules to those of `ports`.
    @discardableResult
    public func sync(_ ports: [ServicePort]) async throws -> Outcome {
        try await applier.apply(rules.render(ports))
    }

    /// Forgets what was applied, so the next sync is a full one.
    public func invalidate() async { await applier.invalidate() }
}
