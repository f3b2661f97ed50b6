import TugOS

/// The nat chains the portmap plugin shares between all its attachments (CNI-HOSTPORT-DNAT, -SETMARK, -MASQ, with
/// jumps from PREROUTING, OUTPUT and POSTROUTING). Detaching removes each pod's own rules but leaves these; once no
/// pod maps a host port any more, `tug reset` removes them too.
public enum HostPortChains {
    static let chains = ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"]

    /// Removes the shared chains if no host port is mapped; returns whether it did.
    @discardableResult
    public static func removeIfUnused(runner: any CommandRunner) async throws -> Bool {
        let listing = try await runner.output(Command(["iptables", "-w", "5", "-t", "nat", "-S"], timeout: .seconds(15)))
        let rules = listing.stdoutText.split(separator: "\n").map { tokens(String($0)) }
        guard rules.contains(where: { $0.count > 1 && $0[0] == "-N" && $0[1] == "CNI-HOSTPORT-DNAT" }) else { return false }
        // A mapped host port is a rule in CNI-HOSTPORT-DNAT jumping to that pod's own chain.
        if rules.contains(where: { $0.count > 1 && $0[0] == "-A" && $0[1] == "CNI-HOSTPORT-DNAT" }) { return false }
        for rule in rules where rule.first == "-A" && !chains.contains(rule[1]) {
            guard let jump = rule.firstIndex(of: "-j"), jump + 1 < rule.count, chains.contains(rule[jump + 1]) else { continue }
            _ = try await runner.output(Command(["iptables", "-w", "5", "-t", "nat", "-D"] + rule.dropFirst(), timeout: .seconds(15)))
        }
        for chain in chains {
            _ = try await runner.run(Command(["iptables", "-w", "5", "-t", "nat", "-F", chain], timeout: .seconds(15)))
        }
        for chain in chains {
            _ = try await runner.run(Command(["iptables", "-w", "5", "-t", "nat", "-X", chain], timeout: .seconds(15)))
        }
        return true
    }

    /// Splits an `iptables -S` rule into arguments (double-quoted words, such as comments, stay whole).
    static func tokens(_ rule: String) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        var hasToken = false
        for character in rule {
            if character == "\"" {
                quoted.toggle()
                hasToken = true
            } else if character == " ", !quoted {
                if hasToken { result.append(current) }
                current = ""
                hasToken = false
            } else {
                current.append(character)
                hasToken = true
            }
        }
        if hasToken { result.append(current) }
        return result
    }
}
