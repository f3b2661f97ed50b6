public import Foundation
import Synchronization

/// Creations and deletions a controller has asked for but not yet seen in its cache (client-go's
/// ControllerExpectations). Until they are observed (or time out after 5 minutes) the controller does not act on
/// its possibly stale view, which is what stops a ReplicaSet from creating the same pod twice.
public final class Expectations<Key: Hashable & Sendable>: Sendable {
    struct Pending {
        var adds: Int
        var deletes: Int
        var since: Date
    }

    private let pending = Mutex<[Key: Pending]>([:])
    let time: any TimeSource
    let timeout: TimeInterval

    public init(time: any TimeSource = SystemTime(), timeout: TimeInterval = 300) {
        self.time = time
        self.timeout = timeout
    }

    /// Whether the controller's view of `key` is complete enough to act on.
    public func satisfied(_ key: Key) -> Bool {
        pending.withLock { pending in
            guard let entry = pending[key] else { return true }
            if (entry.adds <= 0 && entry.deletes <= 0) || time.now.timeIntervalSince(entry.since) > timeout {
                pending[key] = nil
                return true
            }
            return false
        }
    }

    public func expect(_ key: Key, adds: Int = 0, deletes: Int = 0) {
        pending.withLock { $0[key] = Pending(adds: adds, deletes: deletes, since: time.now) }
    }

    public func observedAdd(_ key: Key) { pending.withLock { $0[key]?.adds -= 1 } }
    public func observedDelete(_ key: Key) { pending.withLock { $0[key]?.deletes -= 1 } }

    /// For writes that failed: the cache will never show them.
    public func lowered(_ key: Key, adds: Int = 0, deletes: Int = 0) {
        pending.withLock { pending in
            pending[key]?.adds -= adds
            pending[key]?.deletes -= deletes
        }
    }

    public func forget(_ key: Key) { pending.withLock { $0[key] = nil } }
}
