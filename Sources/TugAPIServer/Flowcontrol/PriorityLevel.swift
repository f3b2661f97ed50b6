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

/// The live state of one priority level: seats in use and, for a queuing level, its fair queues.
///
/// Fair queuing is self-clocked: the level's virtual time is the finish tag of the last request dispatched; a
/// queue that becomes busy starts no earlier than that; each dispatch advances its queue's tag by the request's
/// seats times the estimated service time, corrected by the measured time when the request ends. The queue with
/// the smallest finish tag for its head goes next, so flows share the level's seats evenly whatever their rate.
struct PriorityLevel {
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

    /// What a dispatched request is assumed to cost until it ends (seconds per seat).
    static let estimatedServiceTime = 0.05

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

    mutating func enqueue(_ waiter: FlowWaiter, in index: Int) {
        if queues[index].waiters.isEmpty && queues[index].seatsInUse == 0 {
            queues[index].nextStart = max(queues[index].nextStart, virtualTime)
        }
        queues[index].waiters.append(waiter)
        waiting += 1
        waitingBySchema[waiter.schema.name, default: 0] += 1
    }

    /// The queue whose head finishes first in virtual time, among those whose head fits in `available` seats
    /// (or any head when nothing runs, so a request wider than the level still runs alone).
    func nextQueue(available: Int) -> Int? {
        var best: (index: Int, finish: Double)?
        for (i, q) in queues.enumerated() {
            guard let head = q.waiters.first else { continue }
            guard head.seats <= available || seatsInUse == 0 else { continue }
            let finish = q.nextStart + Double(head.seats) * Self.estimatedServiceTime
            if best == nil || finish < best!.finish { best = (i, finish) }
        }
        return best?.index
    }

    /// Takes the head of queue `index` out for dispatch.
    mutating func dequeue(_ index: Int) -> FlowWaiter {
        let waiter = queues[index].waiters.removeFirst()
        waiting -= 1
        decrementWaiting(waiter.schema.name)
        let cost = Double(waiter.seats) * Self.estimatedServiceTime
        virtualTime = max(virtualTime, queues[index].nextStart + cost)
        queues[index].nextStart += cost
        return waiter
    }

    /// Removes a waiter that timed out or whose client went away.
    mutating func remove(id: UInt64) -> FlowWaiter? {
        for q in queues.indices {
            guard let at = queues[q].waiters.firstIndex(where: { $0.id == id }) else { continue }
            let waiter = queues[q].waiters.remove(at: at)
            waiting -= 1
            decrementWaiting(waiter.schema.name)
            return waiter
        }
        return nil
    }

    mutating func start(seats: Int, queue: Int?, schema: String) {
        seatsInUse += seats
        executing += 1
        if let queue, queue < queues.count { queues[queue].seatsInUse += seats }
        executingBySchema[schema, default: (0, 0)].requests += 1
        executingBySchema[schema, default: (0, 0)].seats += seats
    }

    /// A dispatched request ended after `elapsed` seconds: its seats return, and its queue's virtual time is
    /// corrected from the estimate to what it took.
    mutating func finish(seats: Int, queue: Int?, schema: String, elapsed: Double) {
        seatsInUse = max(0, seatsInUse - seats)
        executing = max(0, executing - 1)
        if let queue, queue < queues.count {
            queues[queue].seatsInUse = max(0, queues[queue].seatsInUse - seats)
            queues[queue].nextStart -= Double(seats) * (Self.estimatedServiceTime - min(elapsed, Self.estimatedServiceTime * 20))
        }
        if var counts = executingBySchema[schema] {
            counts.requests -= 1
            counts.seats -= seats
            executingBySchema[schema] = counts.requests > 0 ? counts : nil
        }
    }

    private mutating func decrementWaiting(_ schema: String) {
        let left = (waitingBySchema[schema] ?? 1) - 1
        waitingBySchema[schema] = left > 0 ? left : nil
    }
}
