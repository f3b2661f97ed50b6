import Synchronization

/// The scheduler's view of the cluster, changed by informer events and binding results while the scheduling loop
/// reads it. A scheduling cycle holds the state for the whole algorithm (milliseconds with thousands of nodes); a
/// change that arrives meanwhile is queued and applied, in order, before the cycle lets go, so an informer's event
/// delivery never waits for a cycle. (Waiting for it did not even sleep: a contended Mutex spins in the kernel while
/// its owner runs, and those spins were 6 % of the server's CPU at 40,000 pods on two cores.)
final class ClusterCache: Sendable {
    typealias Change = @Sendable (inout ClusterState) -> Void

    private let state = Mutex(ClusterState())
    private let gate = Mutex<(cycling: Bool, pending: [Change])>((false, []))

    /// Applies `change` now, or, while a cycle runs, when the cycle ends.
    func apply(_ change: @escaping Change) {
        let deferred = gate.withLock { gate -> Bool in
            guard gate.cycling else { return false }
            gate.pending.append(change)
            return true
        }
        if !deferred { state.withLock { change(&$0) } }
    }

    /// Runs one scheduling cycle with the state to itself; the changes that arrived meanwhile are applied before this
    /// returns, so the next cycle sees them.
    func cycle<T>(_ body: (inout ClusterState) -> T) -> T {
        gate.withLock { $0.cycling = true }
        let result = state.withLock { body(&$0) }
        while true {
            let changes = gate.withLock { gate -> [Change]? in
                guard !gate.pending.isEmpty else {
                    gate.cycling = false
                    return nil
                }
                defer { gate.pending = [] }
                return gate.pending
            }
            guard let changes else { return result }
            state.withLock { state in for change in changes { change(&state) } }
        }
    }

    /// Reads the state as it is now (tests).
    func read<T>(_ body: (ClusterState) -> T) -> T { state.withLock { body($0) } }
}
