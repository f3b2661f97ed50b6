import Synchronization
import TugAPIMachinery

/// What happened to a request that waited in a queue.
enum FlowVerdict: Sendable {
    /// Dispatched from queue `queue` (its seats are already counted).
    case dispatched(queue: Int?)
    /// `queue-full`, `concurrency-limit`, `time-out` or `cancelled` (upstream's metric reasons).
    case rejected(reason: String)
}

/// The flow schema and priority level a request was classified into (their UIDs go out as X-Kubernetes-PF-*).
struct FlowClassification: Sendable {
    var schema: String
    var schemaUID: String
    var level: String
    var levelUID: String
}

/// Seats a dispatched request holds until `FlowController.finish`.
struct FlowTicket: Sendable {
    var level: String
    var queue: Int?
    var seats: Int
    var schema: String
}

enum FlowAdmission: Sendable {
    case admitted(FlowTicket, FlowClassification)
    case rejected(FlowClassification, reason: String)
}

/// API Priority and Fairness: classifies each request by the FlowSchemas into a priority level, runs it when the
/// level has seats (its own, or idle ones other levels lend), queues it fairly among its level's flows with shuffle
/// sharding otherwise, and rejects it when its queue is full, its level does not queue, or it waited too long.
///
/// All state is under one lock, held only for bookkeeping; continuations are resumed after it is released.
final class FlowController: Sendable {
    struct State {
        var classifier = FlowClassifier([])
        var levels: [String: PriorityLevel] = [:]
        /// Level names in a stable order; dispatch after a completion starts one further each time.
        var order: [String] = []
        var rotation = 0
        var levelUIDs: [String: String] = [:]
        var nextID: UInt64 = 0
        /// Queued requests between deciding to queue and being enqueued, and those of them already expired.
        var pending: Set<UInt64> = []
        var expiredEarly: Set<UInt64> = []
        var metrics = FlowMetrics()
    }

    let state = Mutex(State())
    /// The server's concurrency limit (kube-apiserver: --max-requests-inflight plus --max-mutating-requests-inflight).
    let serverConcurrency: Int
    /// How long a request may wait in a queue (upstream: a quarter of the 60 s request timeout).
    let queueWaitLimit: Duration

    init(serverConcurrency: Int = 600, queueWaitLimit: Duration = .seconds(15)) {
        self.serverConcurrency = max(1, serverConcurrency)
        self.queueWaitLimit = queueWaitLimit
        configure(flowSchemas: FlowcontrolBootstrap.flowSchemas, priorityLevels: FlowcontrolBootstrap.priorityLevels)
    }

    // MARK: Configuration

    /// Replaces the configuration. Mandatory objects missing from it are taken from the bootstrap set; a level
    /// whose settings did not change keeps its queues; requests waiting in a level that changed or went away are
    /// let through rather than stranded.
    func configure(flowSchemas: [JSONValue], priorityLevels: [JSONValue]) {
        func withMandatory(_ objects: [JSONValue], _ bootstrap: [JSONValue], _ mandatory: Set<String>) -> [JSONValue] {
            let present = Set(objects.map(\.name))
            return objects + bootstrap.filter { mandatory.contains($0.name) && !present.contains($0.name) }
        }
        let levelObjects = withMandatory(priorityLevels, FlowcontrolBootstrap.priorityLevels, FlowcontrolBootstrap.mandatoryPriorityLevels)
        let schemaObjects = withMandatory(flowSchemas, FlowcontrolBootstrap.flowSchemas, FlowcontrolBootstrap.mandatoryFlowSchemas)
        let settings = levelObjects.map(PriorityLevelSettings.init)
        let totalShares = max(1, settings.reduce(0) { $0 + $1.shares })
        let released = state.withLock { s -> [FlowWaiter] in
            var released: [FlowWaiter] = []
            var levels: [String: PriorityLevel] = [:]
            for setting in settings {
                let level: PriorityLevel
                if let old = s.levels[setting.name], old.settings == setting {
                    level = old
                } else {
                    level = PriorityLevel(settings: setting)
                    if let old = s.levels[setting.name] {
                        level.seatsInUse = old.seatsInUse
                        level.executing = old.executing
                        level.executingBySchema = old.executingBySchema
                        for waiter in old.queues.flatMap({ Array($0.waiters) }) {
                            level.start(seats: waiter.seats, queue: nil, schema: waiter.schema.name)
                            released.append(waiter)
                        }
                    }
                }
                level.settings.uid = setting.uid
                let nominal = Int((Double(serverConcurrency) * Double(setting.shares) / Double(totalShares)).rounded(.up))
                level.nominal = setting.exempt ? nominal : max(1, nominal)
                level.lendable = Int((Double(level.nominal) * Double(setting.lendablePercent) / 100).rounded())
                level.borrowingLimit = setting.borrowingLimitPercent.map { Int((Double(level.nominal) * Double($0) / 100).rounded()) }
                levels[setting.name] = level
            }
            for (name, old) in s.levels where levels[name] == nil {
                released += old.queues.flatMap { Array($0.waiters) }
            }
            s.levels = levels
            s.order = levels.keys.sorted()
            s.levelUIDs = levels.mapValues(\.settings.uid)
            s.classifier = FlowClassifier(schemaObjects.map(CompiledFlowSchema.init))
            return released
        }
        for waiter in released { waiter.continuation.resume(returning: .dispatched(queue: nil)) }
    }

    // MARK: Admission

    /// Classifies a request and waits until it may run (or is rejected).
    func admit(_ digest: RequestDigest, seats: Int) async -> FlowAdmission {
        let first = state.withLock { s in Self.tryDispatch(&s, digest: digest, seats: seats) }
        switch first {
        case .admitted(let ticket, let classification): return .admitted(ticket, classification)
        case .rejected(let classification, let reason): return .rejected(classification, reason: reason)
        case .queue(let id, let schema, let classification, let queue):
            let verdict = await wait(id: id, schema: schema, level: classification.level, queue: queue, seats: seats)
            switch verdict {
            case .dispatched(let queue):
                return .admitted(FlowTicket(level: classification.level, queue: queue, seats: seats, schema: schema.name), classification)
            case .rejected(let reason):
                return .rejected(classification, reason: reason)
            }
        }
    }

    /// What a request no schema matches is classified as (the mandatory catch-all is always configured).
    static let catchAll = CompiledFlowSchema(FlowcontrolBootstrap.flowSchemas.first { $0.name == "catch-all" } ?? .emptyObject)

    enum FirstLook {
        case admitted(FlowTicket, FlowClassification)
        case rejected(FlowClassification, reason: String)
        case queue(id: UInt64, schema: CompiledFlowSchema, classification: FlowClassification, queue: Int)
    }

    static func tryDispatch(_ s: inout State, digest: RequestDigest, seats: Int) -> FirstLook {
        let levels = s.levels
        let schema = s.classifier.classify(digest) { levels[$0] != nil } ?? Self.catchAll
        let name = levels[schema.priorityLevel] != nil ? schema.priorityLevel : "catch-all"
        let classification = FlowClassification(schema: schema.name, schemaUID: schema.uid, level: name, levelUID: s.levelUIDs[name] ?? "")
        guard let level = s.levels[name] else {
            return .admitted(FlowTicket(level: name, queue: nil, seats: seats, schema: schema.name), classification)
        }
        let queue = level.settings.exempt ? nil : level.queue(for: schema, distinguisher: schema.flowDistinguisher(digest))
        if level.settings.exempt || (level.waiting == 0 && Self.fits(seats, in: level, levels: s.levels)) {
            // Dispatched at once, but still counted against its flow's queue, as if it had passed through it.
            if let queue { level.charge(queue, seats: seats) }
            level.start(seats: seats, queue: queue, schema: schema.name)
            s.metrics.dispatched(schema: schema.name, level: name)
            s.metrics.waited(schema: schema.name, level: name, seconds: 0, executed: true)
            return .admitted(FlowTicket(level: name, queue: queue, seats: seats, schema: schema.name), classification)
        }
        guard let queue else {
            s.metrics.rejected(schema: schema.name, level: name, reason: "concurrency-limit")
            return .rejected(classification, reason: "concurrency-limit")
        }
        guard level.queues[queue].waiters.count < level.settings.queueLengthLimit else {
            s.metrics.rejected(schema: schema.name, level: name, reason: "queue-full")
            return .rejected(classification, reason: "queue-full")
        }
        s.nextID += 1
        s.pending.insert(s.nextID)
        return .queue(id: s.nextID, schema: schema, classification: classification, queue: queue)
    }

    /// Whether `seats` more fit in the level: within its nominal limit, or borrowed from idle lendable seats of the
    /// other levels (within its borrowing limit). A request wider than the level runs when the level is idle.
    static func fits(_ seats: Int, in level: PriorityLevel, levels: [String: PriorityLevel]) -> Bool {
        if level.seatsInUse + seats <= level.nominal || level.seatsInUse == 0 { return true }
        let borrowedAfter = level.seatsInUse + seats - level.nominal
        if let limit = level.borrowingLimit, borrowedAfter > limit { return false }
        var lendable = 0, borrowedByOthers = 0
        for other in levels.values where other.settings.name != level.settings.name {
            lendable += other.idleLendable
            borrowedByOthers += other.borrowed
        }
        return lendable - borrowedByOthers >= borrowedAfter
    }

    /// Enqueues the request and waits for its dispatch, its queue-wait deadline or its cancellation.
    func wait(id: UInt64, schema: CompiledFlowSchema, level: String, queue: Int, seats: Int) async -> FlowVerdict {
        let enqueued = ContinuousClock.now
        let limit = queueWaitLimit
        let verdict = await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do { try await Task.sleep(for: limit) } catch { return }
                    self.expire(id, level: level, reason: "time-out")
                }
                let verdict = await withCheckedContinuation { (continuation: CheckedContinuation<FlowVerdict, Never>) in
                    let (immediate, ready) = state.withLock { s -> (FlowVerdict?, [(FlowWaiter, Int)]) in
                        s.pending.remove(id)
                        if s.expiredEarly.remove(id) != nil { return (.rejected(reason: "cancelled"), []) }
                        // The configuration changed in between and the level went away or stopped queuing: let it through.
                        guard let l = s.levels[level], !l.queues.isEmpty else {
                            s.levels[level]?.start(seats: seats, queue: nil, schema: schema.name)
                            return (.dispatched(queue: nil), [])
                        }
                        l.enqueue(FlowWaiter(id: id, seats: seats, schema: schema, enqueued: enqueued, continuation: continuation),
                                  in: min(queue, l.queues.count - 1))
                        // Seats may have come free since the first look, with no completion left to notice.
                        return (nil, Self.dispatchReady(&s))
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                    for (waiter, queue) in ready { waiter.continuation.resume(returning: .dispatched(queue: queue)) }
                }
                group.cancelAll()
                return verdict
            }
        } onCancel: {
            self.expire(id, level: level, reason: "cancelled")
        }
        return verdict
    }

    /// Rejects a waiting request (deadline or cancellation), or marks one not yet enqueued.
    func expire(_ id: UInt64, level: String, reason: String) {
        let waiter = state.withLock { s -> FlowWaiter? in
            if s.pending.remove(id) != nil {
                s.expiredEarly.insert(id)
                return nil
            }
            guard let waiter = s.levels[level]?.remove(id: id) else { return nil }
            s.metrics.rejected(schema: waiter.schema.name, level: level, reason: reason)
            s.metrics.waited(schema: waiter.schema.name, level: level, seconds: Self.seconds(.now - waiter.enqueued), executed: false)
            return waiter
        }
        waiter?.continuation.resume(returning: .rejected(reason: reason))
    }

    /// A dispatched request ended: its seats return and waiting requests that now fit are dispatched.
    func finish(_ ticket: FlowTicket) {
        let ready = state.withLock { s -> [(FlowWaiter, Int)] in
            s.levels[ticket.level]?.finish(seats: ticket.seats, queue: ticket.queue, schema: ticket.schema)
            return Self.dispatchReady(&s)
        }
        for (waiter, queue) in ready { waiter.continuation.resume(returning: .dispatched(queue: queue)) }
    }

    /// Dispatches, level by level in rotation, every queued request that fits.
    static func dispatchReady(_ s: inout State) -> [(FlowWaiter, Int)] {
        var ready: [(FlowWaiter, Int)] = []
        guard !s.order.isEmpty else { return ready }
        s.rotation = (s.rotation + 1) % s.order.count
        var progress = true
        while progress {
            progress = false
            for offset in 0..<s.order.count {
                let name = s.order[(s.rotation + offset) % s.order.count]
                guard let level = s.levels[name], level.waiting > 0 else { continue }
                let available = max(0, level.nominal - level.seatsInUse) + borrowable(level, levels: s.levels)
                guard let index = level.nextQueue(available: available), let head = level.queues[index].waiters.first,
                      fits(head.seats, in: level, levels: s.levels) else { continue }
                let waiter = level.dequeue(index)
                level.start(seats: waiter.seats, queue: index, schema: waiter.schema.name)
                s.metrics.dispatched(schema: waiter.schema.name, level: name)
                s.metrics.waited(schema: waiter.schema.name, level: name, seconds: seconds(.now - waiter.enqueued), executed: true)
                ready.append((waiter, index))
                progress = true
            }
        }
        return ready
    }

    /// Seats the level could borrow right now.
    static func borrowable(_ level: PriorityLevel, levels: [String: PriorityLevel]) -> Int {
        var lendable = 0, borrowed = 0
        for other in levels.values where other.settings.name != level.settings.name {
            lendable += other.idleLendable
            borrowed += other.borrowed
        }
        var room = max(0, lendable - borrowed - level.borrowed)
        if let limit = level.borrowingLimit { room = min(room, max(0, limit - level.borrowed)) }
        return room
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: Metrics

    /// The apiserver_flowcontrol_* series in the Prometheus text format.
    func metricsText() -> String {
        state.withLock { s in s.metrics.render(levels: s.levels) }
    }
}
