/// `iptables-restore --noflush` input that moves the kernel from one RuleSet to another. With `--noflush`, only the
/// chains declared (`:CHAIN - [0:0]`) are flushed, so a change rewrites just the chains that changed, and the
/// unordered dispatch chains get `-D`/`-A` of the rules that changed: a one-Service change is a few lines whatever
/// the number of Services. Everything in one document is applied atomically, or not at all.
public enum RestoreDocument {
    /// What is there before a full sync: our chains (by name) and the built-in chains' rules that jump into them,
    /// per table, read from `iptables-save`.
    public struct Existing: Sendable, Equatable {
        public var chains: [String: Set<String>] = [:]
        public var jumps: [String: [RuleSet.Jump]] = [:]

        public init() {}

        /// Parses `iptables-save` output, keeping what belongs to `names`.
        public init(save: String, names: ChainNames) {
            var table = ""
            for line in save.split(separator: "\n") {
                if line.hasPrefix("*") {
                    table = String(line.dropFirst())
                } else if line.hasPrefix(":") {
                    let chain = line.dropFirst().prefix { $0 != " " }
                    if names.owns(chain) { chains[table, default: []].insert(String(chain)) }
                } else if line.hasPrefix("-A ") {
                    let rest = line.dropFirst(3)
                    let chain = rest.prefix { $0 != " " }
                    guard !names.owns(chain), let target = rest.range(of: " -j ") else { continue }
                    let jumpTarget = rest[target.upperBound...].prefix { $0 != " " }
                    if names.owns(jumpTarget) {
                        jumps[table, default: []].append(.init(from: String(chain), rule: String(rest.dropFirst(chain.count + 1))))
                    }
                }
            }
        }
    }

    /// Makes the kernel match `desired` whatever was there: every desired chain is declared (flushed) and written,
    /// chains of ours that are no longer wanted are flushed and deleted, missing jumps are inserted at the top of
    /// their built-in chain and stale ones deleted.
    public static func full(_ desired: RuleSet, existing: Existing) -> String {
        var out = ""
        for name in RuleSet.tableOrder {
            let table = desired.tables[name] ?? .init()
            let stale = (existing.chains[name] ?? []).subtracting(table.chains.keys).sorted()
            let present = existing.jumps[name] ?? []
            out += "*\(name)\n"
            for chain in table.chains.keys.sorted() + stale { out += ":\(chain) - [0:0]\n" }
            for jump in present where !table.jumps.contains(jump) { out += "-D \(jump.from) \(jump.rule)\n" }
            // Inserted at position 1 in reverse, so they end up at the top in the order given.
            for jump in table.jumps.reversed() where !present.contains(jump) { out += "-I \(jump.from) 1 \(jump.rule)\n" }
            for chain in table.chains.keys.sorted() {
                for rule in table.chains[chain] ?? [] { out += "-A \(chain) \(rule)\n" }
            }
            for chain in stale { out += "-X \(chain)\n" }
            out += "COMMIT\n"
        }
        return out
    }

    /// The change from `applied` to `desired`, or nil when there is none. Jumps are not touched (they are the same
    /// in every RuleSet of one proxy).
    public static func delta(from applied: RuleSet, to desired: RuleSet) -> String? {
        var out = ""
        for name in RuleSet.tableOrder {
            let old = applied.tables[name] ?? .init()
            let new = desired.tables[name] ?? .init()
            var declarations: [String] = []
            var deletions: [String] = []
            var additions: [String] = []
            for chain in new.chains.keys.sorted() {
                let rules = new.chains[chain] ?? []
                guard let previous = old.chains[chain] else {
                    declarations.append(chain)
                    additions += rules.map { "-A \(chain) \($0)" }
                    continue
                }
                guard previous != rules else { continue }
                if new.unordered.contains(chain) {
                    let (removed, added) = difference(previous, rules)
                    deletions += removed.map { "-D \(chain) \($0)" }
                    additions += added.map { "-A \(chain) \($0)" }
                } else {
                    declarations.append(chain)
                    additions += rules.map { "-A \(chain) \($0)" }
                }
            }
            let removedChains = old.chains.keys.filter { new.chains[$0] == nil }.sorted()
            guard !(declarations.isEmpty && deletions.isEmpty && additions.isEmpty && removedChains.isEmpty) else { continue }
            out += "*\(name)\n"
            for chain in declarations + removedChains { out += ":\(chain) - [0:0]\n" }
            for line in deletions + additions { out += line + "\n" }
            for chain in removedChains { out += "-X \(chain)\n" }
            out += "COMMIT\n"
        }
        return out.isEmpty ? nil : out
    }

    /// Rules only in `old` and only in `new`, counting duplicates.
    static func difference(_ old: [String], _ new: [String]) -> (removed: [String], added: [String]) {
        var counts: [String: Int] = [:]
        for rule in old { counts[rule, default: 0] += 1 }
        var added: [String] = []
        for rule in new {
            if let count = counts[rule], count > 0 { counts[rule] = count - 1 } else { added.append(rule) }
        }
        var removed: [String] = []
        for rule in old where (counts[rule] ?? 0) > 0 {
            removed.append(rule)
            counts[rule]! -= 1
        }
        return (removed, added)
    }
}
