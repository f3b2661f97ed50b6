import Foundation
import Synchronization

/// The kubelet's container restart back-off: the first restart is immediate, then 10 s, doubling to 5 min,
/// counted from when the container last finished; a container that stayed up past twice the maximum starts over.
/// Keys are `<pod uid>/<container name>`.
final class RestartBackoff: Sendable {
    private struct Entry {
        var delay: Double
        var lastRestart: Double
    }

    private let entries = Mutex<[String: Entry]>([:])
    let initial: Double
    let maximum: Double

    init(initial: Double = 10, maximum: Double = 300) {
        self.initial = initial
        self.maximum = maximum
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// Seconds to wait before restarting `key`, which finished at `finished` (Unix seconds); 0 when it may restart.
    func remaining(_ key: String, finished: Double, now: Double = RestartBackoff.now()) -> Double {
        entries.withLock { entries in
            guard let entry = entries[key] else { return 0 }
            if now - entry.lastRestart > maximum * 2, now - finished > maximum * 2 {
                entries[key] = nil
                return 0
            }
            return max(0, finished + entry.delay - now)
        }
    }

    /// Seconds left of the back-off that started at the last recorded attempt (image pulls).
    func remainingSinceLast(_ key: String, now: Double = RestartBackoff.now()) -> Double {
        entries.withLock { entries in
            guard let entry = entries[key] else { return 0 }
            return max(0, entry.lastRestart + entry.delay - now)
        }
    }

    /// The current delay for `key` in seconds (what "back-off 10s restarting failed container" reports).
    func delay(_ key: String) -> Double {
        entries.withLock { $0[key]?.delay ?? 0 }
    }

    /// Records a restart: the next one waits `initial`, then twice the previous delay up to `maximum`.
    func restarted(_ key: String, now: Double = RestartBackoff.now()) {
        entries.withLock { entries in
            let next = entries[key].map { min($0.delay * 2, maximum) } ?? initial
            entries[key] = Entry(delay: next, lastRestart: now)
        }
    }

    func forget(prefix: String) {
        entries.withLock { entries in
            for key in entries.keys where key.hasPrefix(prefix) { entries[key] = nil }
        }
    }
}
