import Foundation
import Testing
import TugOS
@testable import TugProxy

/// The syncer against the real iptables-restore, in a network namespace of the test's own (removed afterwards).
@Suite struct KernelSyncTests {
    static func withNetns(_ body: (IPTables) async throws -> Void) async throws {
        let runner = ProcessCommandRunner()
        let name = "tugproxy-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let added = try await runner.run(Command(["ip", "netns", "add", name], timeout: .seconds(10)))
        try #require(added.status == 0, "ip netns add failed (the proxy tests need root and iproute2): \(added.stderrText)")
        do {
            try await body(IPTables(runner: runner, netns: name))
        } catch {
            _ = try? await runner.run(Command(["ip", "netns", "del", name], timeout: .seconds(10)))
            throw error
        }
        _ = try await runner.run(Command(["ip", "netns", "del", name], timeout: .seconds(10)))
    }

    /// The rule and chain lines of an iptables-save, in a stable order (no header comments or counters).
    static func rules(_ save: String) -> [String] {
        save.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0) }.sorted()
    }

    @Test func fullSyncThenDeltasThenRemoval() async throws {
        try await Self.withNetns { iptables in
            let names = ChainNames(prefix: "TUG-7E57AA")
            let syncer = ProxySyncer(rules: ProxyRules(names: names, clusterCIDR: "10.42.0.0/16"), iptables: iptables)
            var ports = (0..<20).map { ProxyRulesTests.port("s\($0)", ip: "10.43.2.\($0)", endpoints: ["10.42.0.\($0 + 2)", "10.42.1.\($0 + 2)"], nodePort: 30000 + $0) }
            let first = try await syncer.sync(ports)
            #expect(first.full)
            var save = try await iptables.save()
            #expect(save.contains("-A PREROUTING -m comment --comment \"tug service portals\" -j TUG-7E57AA-SERVICES"))
            #expect(save.contains("-A TUG-7E57AA-SERVICES -d 10.43.2.3/32 -p tcp -m comment --comment \"ns/s3 cluster IP\" -m tcp --dport 80"))

            // Unchanged: nothing is written. Changed: a small delta, and the kernel matches a fresh full render.
            #expect(try await syncer.sync(ports).lines == 0)
            ports[3].endpoints = []
            ports.remove(at: 10)
            let delta = try await syncer.sync(ports)
            #expect(!delta.full && delta.lines < 30)
            save = try await iptables.save()
            #expect(!save.contains("ns/s3 cluster IP") && save.contains("ns/s3 has no endpoints"))
            #expect(!save.contains("ns/s10 ") && !save.contains(names.service(ProxyRulesTests.port("s10", ip: "", endpoints: []))))

            // A restarted proxy (new syncer) converges from what is there, jumps included, without duplicating them.
            let again = ProxySyncer(rules: ProxyRules(names: names, clusterCIDR: "10.42.0.0/16"), iptables: iptables)
            try await again.sync(ports)
            #expect(try await iptables.save().components(separatedBy: "-j TUG-7E57AA-POSTROUTING").count == 2)
            #expect(Self.rules(try await iptables.save()) == Self.rules(save))

            #expect(try await iptables.remove(names))
            #expect(!(try await iptables.save()).contains("TUG-7E57AA"))
            #expect(try await iptables.remove(names) == false)
        }
    }
}
