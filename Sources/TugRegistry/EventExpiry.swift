/// When each stored Event expires: a queue of (key, revision, deadline) in deadline order.
///
/// Every write of an Event gives it a whole TTL from that moment (kube-apiserver attaches a lease of `--event-ttl`
/// to every Event write), so entries enqueued as writes arrive are already in deadline order. An entry names the
/// revision it was written at: when it comes due, the Event is deleted only if it is still at that revision (a
/// later write left a later entry of its own), so stale entries need no removal.
struct EventExpiry<Instant: Comparable & Sendable>: Sendable {
    struct Entry: Sendable {
        var key: String
        var revision: Int64
        var deadline: Instant
    }

    private var entries: [Entry] = []
    /// Entries before `head` were handed out; the array is shifted only once they outnumber the rest.
    private var head = 0

    var count: Int { entries.count - head }

    /// Queues a write's deadline; deadlines must not go backwards (one TTL after each arrival).
    mutating func append(key: String, revision: Int64, deadline: Instant) {
        entries.append(Entry(key: key, revision: revision, deadline: deadline))
    }

    /// Replaces the queue with the Events found by a LIST (their deadlines in any order): at start-up, or after the
    /// watch that followed them ended.
    mutating func reset(_ found: [Entry]) {
        entries = found.sorted { $0.deadline < $1.deadline }
        head = 0
    }

    /// The entries due at `now`, oldest first, removed from the queue.
    mutating func takeDue(at now: Instant) -> [Entry] {
        var due: [Entry] = []
        while head < entries.count, entries[head].deadline <= now {
            due.append(entries[head])
            head += 1
        }
        if head > 1024, head > entries.count - head {
            entries.removeFirst(head)
            head = 0
        }
        return due
    }

    /// The earliest deadline still queued.
    var nextDeadline: Instant? { head < entries.count ? entries[head].deadline : nil }
}
