import NIOCore
import TugAPIMachinery

/// A PriorityLevelConfiguration as flow control uses it.
struct PriorityLevelSettings: Sendable, Equatable {
    var name: String
    var uid: String
    var exempt: Bool
    var shares: Int
    var lendablePercent: Int
    /// Nil: the level may borrow without limit.
    var borrowingLimitPercent: Int?
    /// Zero when the level rejects instead of queuing (`limitResponse.type: Reject`).
    var queues: Int
    var handSize: Int
    var queueLengthLimit: Int

    init(_ object: JSONValue) {
        name = object.name
        uid = object.uid
        let spec = object["spec"]
        exempt = spec["type"] == "Exempt"
        let config = exempt ? spec["exempt"] : spec["limited"]
        shares = Int(max(0, config["nominalConcurrencyShares"].intValue ?? (exempt ? 0 : 30)))
        lendablePercent = Int(min(100, max(0, config["lendablePercent"].intValue ?? 0)))
        borrowingLimitPercent = config["borrowingLimitPercent"].intValue.map { Int(max(0, $0)) }
        let queuing = config["limitResponse"]["queuing"]
        if !exempt, config["limitResponse"]["type"] == "Queue" {
            queues = Int(max(1, queuing["queues"].intValue ?? 64))
            handSize = Int(min(Int64(queues), max(1, queuing["handSize"].intValue ?? 8)))
            queueLengthLimit = Int(max(1, queuing["queueLengthLimit"].intValue ?? 50))
        } else {
            queues = 0
            handSize = 0
            queueLengthLimit = 0
        }
    }
}

/// A request waiting in a queue for seats.
struct FlowWaiter {
    var id: UInt64
    var seats: Int
    var schema: CompiledFlowSchema
    var enqueued: ContinuousClock.Instant
    var continuation: CheckedContinuation<FlowVerdict, Never>
}

/// One fair queue: its waiting requests, the seats its dispatched requests hold, and the virtual time at which its
/// next request may start.
struct FairQueue {
    var waiters = CircularBuffer<FlowWaiter>()
    var seatsInUse = 0
    var nextStart = 0.0
}

/// The live state of one priority level: seats in use and, for a queuing level, its fair queues. A reference, so
/// the flow controller updates it in place under its lock (never copying its queues).
///
/// Fair queuing is start-time fair queuing on seats: each queue carries the virtual start tag of its next request;
/// the queue with the smallest tag goes next (ties to the one holding fewer seats), the level's virtual time becomes
/// that tag, and the queue's tag advances by the request's seats. A queue that becomes busy starts at the level's
/// virtual time, so a newly arrived flow is served within one round however long a heavy flow's backlog is, and
/// backlogged flows share the seats evenly whatever their rate. (Upstream weighs seats by the time they are held;
/// here every dispatch of a seat counts the same.)
final class PriorityLevel {
    var settings: PriorityLevelSettings
    /// NominalCL: the seats the level holds of the server's concurrency limit.
    var nominal = 0
    /// LendableCL: the seats of `nominal` other levels may borrow while this level does not use them.
    var lendable = 0
    /// BorrowingCL: the most seats this level may borrow from others (nil: no limit).
    var borrowingLimit: Int?
    var seatsInUse = 0
    var executing = 0
    var waiting = 0
    var queues: [FairQueue]
    var virtualTime = 0.0
    /// Counts for /metrics, by flow schema name.
    var executingBySchema: [String: (requests: Int, seats: Int)] = [:]
    var waitingBySchema: [String: Int] = [:]

    init(settings: PriorityLevelSettings) {
        self.settings = settings
        queues = Array(repeating: FairQueue(), count: settings.queues)
    }

    /// Seats this level holds beyond its nominal limit, borrowed from others.
    var borrowed: Int { max(0, seatsInUse - nominal) }

    /// Of this level's lendable seats, those it is not using itself.
    var idleLendable: Int {
        let guaranteed = nominal - lendable
        let ownUse = min(seatsInUse, nominal)
        return lendable - min(lendable, max(0, ownUse - guaranteed))
    }

    /// The shortest queue of the flow's hand (by waiting requests, then seats in use), or nil for a level that
    /// does not queue.
    func queue(for schema: CompiledFlowSchema, distinguisher: String) -> Int? {
        guard settings.queues > 0 else { return nil }
        let hand = ShuffleSharding.deal(hash: ShuffleSharding.hash(schema: schema.name, distinguisher: distinguisher),
                                        deckSize: settings.queues, handSize: settings.handSize)
        return hand.min { a, b in
            (queues[a].waiters.count, queues[a].seatsInUse) < (queues[b].waiters.count, queues[b].seatsInUse)
        }
    }

    func enqueue(_ waiter: FlowWaiter, in index: Int) {
        if queues[index].waiters.isEmpty && queues[index].seatsInUse == 0 {
            queues[index].nextStart = max(queues[index].nextStart, virtualTime)
        }
        queues[index].waiters.append(waiter)
        waiting += 1
        waitingBySchema[waiter.schema.name, default: 0] += 1
    }

    /// The queue whose head has the smallest start tag (ties to the queue holding fewer seats), among those whose
    /// head fits in `available` seats (or any head when nothing runs, so a request wider than the level runs alone).
    func nextQueue(available: Int) -> Int? {
        var best: Int?
        for (i, q) in queues.enumerated() {
            guard let head = q.waiters.first, head.seats <= available || seatsInUse == 0 else { continue }
            if let b = best, (queues[b].nextStart, queues[b].seatsInUse) <= (q.nextStart, q.seatsInUse) { continue }
            best = i
        }
        return best
    }

    /// Takes the head of queue `index` out for dispatch.
    func dequeue(_ index: Int) -> FlowWaiter {
        let waiter = queues[index].waiters.removeFirst()
        waiting -= 1
        decrementWaiting(waiter.schema.name)
        charge(index, seats: waiter.seats)
        return waiter
    }

    /// Counts a dispatch against queue `index`: the level's virtual time moves to the queue's start tag, which
    /// advances by the seats taken.
    func charge(_ index: Int, seats: Int) {
        queues[index].nextStart = max(queues[index].nextStart, virtualTime)
        virtualTime = queues[index].nextStart
        queues[index].nextStart += Double(seats)
    }

    /// Removes a waiter that timed out or whose client went away.
    func remove(id: UInt64) -> FlowWaiter? {
        for q in queues.indices {
            guard let at = queues[q].waiters.firstIndex(where: { $0.id == id }) else { continue }
            let waiter = queues[q].waiters.remove(at: at)
            waiting -= 1
            decrementWaiting(waiter.schema.name)
            return waiter
        }
        return nil
    }

    func start(seats: Int, queue: Int?, schema: String) {
        seatsInUse += seats
        executing += 1
        if let queue, queue < queues.count { queues[queue].seatsInUse += seats }
        executingBySchema[schema, default: (0, 0)].requests += 1
        executingBySchema[schema, default: (0, 0)].seats += seats
    }

    /// A dispatched request ended: its seats return.
    func finish(seats: Int, queue: Int?, schema: String) {
        seatsInUse = max(0, seatsInUse - seats)
        executing = max(0, executing - 1)
        if let queue, queue < queues.count { queues[queue].seatsInUse = max(0, queues[queue].seatsInUse - seats) }
        if var counts = executingBySchema[schema] {
            counts.requests -= 1
            counts.seats -= seats
            executingBySchema[schema] = counts.requests > 0 ? counts : nil
        }
    }

    private func decrementWaiting(_ schema: String) {
        let left = (waitingBySchema[schema] ?? 1) - 1
        waitingBySchema[schema] = left > 0 ? left : nil
    }
}
