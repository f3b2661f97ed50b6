import Logging
import Synchronization
import Testing
import TugClient
import TugControllerRuntime
@testable import TugSim

/// The hollow nodes' heartbeat renews every lease each round even when some renewals fail: a failure is retried
/// with backoff and never ends the round for the nodes after it.
@Suite struct LeaseHeartbeatTests {
    static func nodes(_ count: Int, leaseSeconds: Int64, concurrency: Int, client: RESTClient) -> HollowNodes {
        var configuration = HollowNodes.Configuration(count: count)
        configuration.leaseDurationSeconds = leaseSeconds
        configuration.leaseConcurrency = concurrency
        configuration.reportPods = false
        return HollowNodes(client: client, informers: InformerFactory(client: client, logger: Logger(label: "test")),
                           configuration: configuration, logger: Logger(label: "test"))
    }

    struct Refused: Error {}

    @Test func aRefusedRenewalIsRetriedAndNeverStopsTheOthers() async throws {
        // Never contacted: the heartbeat is handed its own renew function.
        let client = try RESTClient(kubeconfig: Kubeconfig(server: "https://127.0.0.1:1", caPEM: nil, token: nil, insecureSkipTLSVerify: true))
        let hollow = Self.nodes(40, leaseSeconds: 4, concurrency: 1, client: client)
        let first = hollow.nodeNames[0]
        let attempts = Mutex<[String: Int]>([:])
        let beating = Task {
            await hollow.heartbeat { name in
                let attempt = attempts.withLock { a -> Int in
                    a[name, default: 0] += 1
                    return a[name]!
                }
                // The first node in the round is always refused; with one renewal in flight, every other node
                // waits behind it.
                if name == first { throw Refused() }
                _ = attempt
            }
        }
        defer { beating.cancel() }
        let deadline = ContinuousClock.now + .seconds(20)
        while hollow.leaseStats.snapshot().renewed < 39, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let stats = hollow.leaseStats.snapshot()
        #expect(stats.renewed >= 39, "every other node was renewed: \(stats)")
        #expect(stats.failures.first?.cause == "Refused", "\(stats)")
        #expect(attempts.withLock { $0[first] ?? 0 } >= 2, "the refused renewal was retried within its round")
        beating.cancel()
        await beating.value
        try await client.shutdown()
    }

    @Test func statsReportTheLongestGapBetweenRenewals() {
        let stats = LeaseStats(nodes: 2)
        let start = ContinuousClock.now
        stats.renewed(0, at: start)
        stats.renewed(1, at: start)
        stats.renewed(0, at: start + .seconds(12))
        let snapshot = stats.snapshot(now: start + .seconds(15))
        #expect(snapshot.renewed == 3)
        #expect(snapshot.longestGap == .seconds(15), "node 1 has gone 15 s without a renewal")
    }
}
