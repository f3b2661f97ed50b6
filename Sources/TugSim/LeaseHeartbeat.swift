import Foundation
import Synchronization
import TugAPIMachinery

/// What the hollow nodes' lease renewals met: renewals done and failed, why they failed, and the longest time any
/// node went without a renewal (the figure that decides whether a node is lost: the node lifecycle controller waits
/// 40 s).
public final class LeaseStats: Sendable {
    private let state: Mutex<State>

    struct State {
        var renewed = 0
        var failed = 0
        var failures: [String: Int] = [:]
        /// When each node's lease was last renewed (by its index in the sorted names).
        var lastRenewal: [ContinuousClock.Instant?]
        var longestGap: Duration = .zero
    }

    public struct Snapshot: Sendable, CustomStringConvertible {
        public var renewed: Int
        public var failed: Int
        /// Failures by cause ("429 TooManyRequests", "timeout", …), most frequent first.
        public var failures: [(cause: String, count: Int)]
        public var longestGap: Duration

        public var description: String {
            let causes = failures.prefix(3).map { "\($0.count) \($0.cause)" }.joined(separator: ", ")
            return String(format: "%d renewals, %d failed%@, longest gap %.1f s", renewed, failed,
                          causes.isEmpty ? "" : " (\(causes))", longestGap.seconds)
        }
    }

    init(nodes: Int) { state = Mutex(State(lastRenewal: Array(repeating: nil, count: nodes))) }

    func renewed(_ node: Int, at instant: ContinuousClock.Instant = .now) {
        state.withLock { s in
            if let last = s.lastRenewal[node] { s.longestGap = max(s.longestGap, instant - last) }
            s.lastRenewal[node] = instant
            s.renewed += 1
        }
    }

    func failed(_ error: any Error) {
        let cause: String
        switch error {
        case let status as StatusError: cause = "\(status.code) \(status.reason.rawValue)"
        default: cause = String(describing: type(of: error))
        }
        state.withLock { s in
            s.failed += 1
            s.failures[cause, default: 0] += 1
        }
    }

    /// The figures so far; the longest gap also counts nodes whose renewal is overdue now.
    public func snapshot(now: ContinuousClock.Instant = .now) -> Snapshot {
        state.withLock { s in
            let overdue = s.lastRenewal.compactMap { $0.map { now - $0 } }.max() ?? .zero
            return Snapshot(renewed: s.renewed, failed: s.failed,
                            failures: s.failures.sorted { $0.value > $1.value }.map { ($0.key, $0.value) },
                            longestGap: max(s.longestGap, overdue))
        }
    }
}

extension HollowNodes {
    /// Renews every lease each quarter of the lease duration, as the agent does: rounds start on that period (not
    /// after the previous round plus a pause), with enough renewals in flight to finish a round within it.
    ///
    /// A renewal that fails is retried with the kubelet's backoff (200 ms doubling to 7 s) until it succeeds or the
    /// next round starts; it never holds up or ends the renewals of other nodes (it once did: one failed request
    /// ended the round, so the nodes late in it went unrenewed and 574 were lost in a soak).
    func heartbeat(renew: @escaping @Sendable (String) async throws -> Void) async {
        let names = nodeNames
        let period = Duration.seconds(max(1, configuration.leaseDurationSeconds / 4))
        let concurrency = configuration.leaseConcurrency ?? max(16, configuration.count / 25)
        var next = ContinuousClock.now + period
        while (try? await time.sleep(for: max(.zero, next - ContinuousClock.now))) != nil {
            let roundEnd = next + period
            next += period
            await withTaskGroup(of: Void.self) { group in
                var indices = names.indices.makeIterator()
                func startNext() {
                    guard let index = indices.next() else { return }
                    group.addTask { await self.renewUntilDone(names[index], index: index, until: roundEnd, renew: renew) }
                }
                for _ in 0..<concurrency { startNext() }
                while await group.next() != nil { startNext() }
            }
        }
    }

    func renewUntilDone(_ name: String, index: Int, until deadline: ContinuousClock.Instant,
                        renew: @Sendable (String) async throws -> Void) async {
        var backoff = Duration.milliseconds(200)
        while !Task.isCancelled {
            do {
                try await renew(name)
                leaseStats.renewed(index)
                return
            } catch is CancellationError {
                return
            } catch {
                leaseStats.failed(error)
            }
            guard ContinuousClock.now + backoff < deadline, (try? await Task.sleep(for: backoff)) != nil else { return }
            backoff = min(backoff * 2, .seconds(7))
        }
    }
}
