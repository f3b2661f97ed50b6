public import TugOS

/// The two iptables programs the proxy runs: `iptables-save` to read what is there before a full sync, and
/// `iptables-restore --noflush` to apply a document atomically. With `netns`, both run inside that network
/// namespace (`ip netns exec`), as the benchmark does.
public struct IPTables: Sendable {
    let runner: any CommandRunner
    let netns: String?

    public init(runner: any CommandRunner, netns: String? = nil) {
        self.runner = runner
        self.netns = netns
    }

    func command(_ argv: [String], stdin: [UInt8] = [], timeout: Duration) -> Command {
        Command((netns.map { ["ip", "netns", "exec", $0] } ?? []) + argv, timeout: timeout, stdin: stdin)
    }

    /// `iptables-save` of the filter and nat tables.
    public func save() async throws -> String {
        var text = ""
        for table in RuleSet.tableOrder {
            text += try await runner.output(command(["iptables-save", "-t", table], timeout: .seconds(60))).stdoutText
        }
        return text
    }

    /// Applies `document` (all or nothing); a rejected document throws with iptables-restore's message.
    public func restore(_ document: String) async throws {
        // A large first sync (10,000 Services) takes seconds in iptables-nft-restore; the lock wait is 5 s.
        _ = try await runner.output(command(["iptables-restore", "-w", "5", "--noflush"], stdin: Array(document.utf8), timeout: .seconds(300)))
    }

    /// Removes every chain and jump of `names` (`tug reset`).
    public func remove(_ names: ChainNames) async throws -> Bool {
        let existing = RestoreDocument.Existing(save: try await save(), names: names)
        guard existing.chains.values.contains(where: { !$0.isEmpty }) || existing.jumps.values.contains(where: { !$0.isEmpty }) else { return false }
        try await restore(RestoreDocument.full(ProxyRules.empty, existing: existing))
        return true
    }
}
