import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TugAPIMachinery
import TugClient
import TugControllerRuntime

/// kube-scheduler's role: pending pods of `default-scheduler` are taken from the scheduling queue one at a time,
/// the framework's plugins find and score nodes (`SchedulingAlgorithm`), the pod is assumed on the chosen node in
/// the scheduler's cache and bound through `pods/binding` in the background, so the next cycle starts at once.
/// A pod that fits nowhere gets `PodScheduled=False` with kube's summary, may preempt lower-priority pods, and is
/// retried when nodes or pods change.
public final class Scheduler: Service, Sendable {
    /// The user the scheduler is (kube-scheduler's `system:kube-scheduler`).
    public static let user = "system:kube-scheduler"
    let client: RESTClient
    let logger: Logger
    let events: EventRecorder
    let queue: SchedulingQueue
    let cluster = ClusterCache()
    let algorithm = SchedulingAlgorithm()
    let preemption = DefaultPreemption()
    let pods: Informer
    let nodes: Informer
    let namespaces: Informer
    let time: any TimeSource
    private let nextStart = Atomic<Int>(0)

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.logger = logger
        self.time = time
        queue = SchedulingQueue(time: time)
        events = EventRecorder(client: client, component: "default-scheduler", logger: logger)
        // The controllers' caches, read as the scheduler: its own role must allow what it reads.
        pods = informers.informer(.pods, readBy: Self.user)
        nodes = informers.informer(.nodes, readBy: Self.user)
        namespaces = informers.informer(.namespaces, readBy: Self.user)
        pods.addHandler { [weak self] event in self?.podChanged(event) }
        nodes.addHandler { [weak self] event in self?.nodeChanged(event) }
        namespaces.addHandler { [weak self] event in
            guard let self else { return }
            let object = event.object
            cluster.apply { state in
                if case .deleted = event { state.namespaceLabels[object.name] = nil } else { state.namespaceLabels[object.name] = object.labels }
            }
        }
    }

    // MARK: Cluster events

    /// What the queue does in response is decided with the cluster state, so it runs as part of the change (which
    /// may wait for a running cycle to end).
    func podChanged(_ event: InformerEvent) {
        let pod = PodInfo(event.object)
        let queue = self.queue
        if case .deleted = event {
            queue.remove(pod.uid)
            cluster.apply { state in
                let wasPlaced = state.isPlaced(pod.uid)
                state.remove(uid: pod.uid)
                state.nominate(pod, node: nil)
                if wasPlaced { queue.moveAllToActive() }
            }
            return
        }
        if !pod.nodeName.isEmpty {
            queue.remove(pod.uid)
            cluster.apply { state in
                guard pod.terminal else {
                    state.place(pod, on: pod.nodeName)
                    return
                }
                let freed = state.isPlaced(pod.uid)
                state.remove(uid: pod.uid)
                if freed { queue.moveAllToActive() }
            }
            return
        }
        guard pod.schedulerName == "default-scheduler", !pod.terminal else { return }
        if pod.deleting {
            queue.remove(pod.uid)
            return
        }
        // Assumed pods wait for their binding's outcome, not for another cycle.
        cluster.apply { state in
            guard !state.isAssumed(pod.uid) else { return }
            state.nominate(pod, node: pod.nominatedNode)
            queue.add(pod)
        }
    }

    func nodeChanged(_ event: InformerEvent) {
        let node = event.object
        cluster.apply { state in
            if case .deleted = event { state.removeNode(node.name) } else { state.upsertNode(node) }
        }
        if case .updated(let old, let new) = event, old["spec"] == new["spec"], old.labels == new.labels,
           old["status"]["allocatable"] == new["status"]["allocatable"] { return }
        queue.moveAllToActive()
    }

    // MARK: Scheduling loop

    public func run() async throws {
        for informer in [nodes, pods, namespaces] { await informer.waitForSync() }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.queue.runTimers() }
                // Unschedulable pods are retried now and then even without an event (kube flushes them too).
                group.addTask {
                    while (try? await self.time.sleep(for: .seconds(30))) != nil { self.queue.moveAllToActive() }
                }
                var random = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
                while let pod = await queue.pop() {
                    scheduleOne(pod, random: &random, group: &group)
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.queue.close()
        }
    }

    func scheduleOne(_ pod: PodInfo, random: inout some RandomNumberGenerator, group: inout DiscardingTaskGroup) {
        let start = nextStart.load(ordering: .relaxed)
        let (outcome, total, preempted) = cluster.cycle { state -> (SchedulingAlgorithm.Outcome, Int, DefaultPreemption.Result?) in
            let outcome = algorithm.schedule(pod, cluster: state, start: start, random: &random)
            if let node = outcome.node {
                state.place(pod, on: node, assume: true)
                return (outcome, state.nodeCount, nil)
            }
            let result = preemption.preempt(pod, cluster: state, failures: outcome.failures, algorithm: algorithm, state: outcome.state)
            // The freed room is reserved for this pod from now on, before the victims are even gone.
            if case .preempt(let candidate) = result {
                state.nominate(pod, node: candidate.node)
                state.markDeleting(candidate.victims.map(\.uid))
            }
            return (outcome, state.nodeCount, result)
        }
        if total > 0 { nextStart.store((start + outcome.examined) % total, ordering: .relaxed) }
        if let node = outcome.node {
            queue.done(pod.uid)
            group.addTask { await self.bind(pod, to: node) }
            return
        }
        queue.unschedulable(pod)
        var message = SchedulingAlgorithm.summary(total: total, failures: outcome.failures)
        switch preempted {
        case .preempt(let candidate):
            group.addTask { await self.evict(candidate, for: pod) }
        case .notHelpful(let why):
            message += " preemption: " + why
        case nil:
            break
        }
        group.addTask { await self.markUnschedulable(pod, message: message) }
    }

    func bind(_ pod: PodInfo, to node: String) async {
        let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(pod.name), "uid": .string(pod.uid)],
                                  "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)]]
        do {
            try await client.send(.POST, "/api/v1/namespaces/\(pod.namespace)/pods/\(pod.name)/binding", body: binding)
            cluster.apply { $0.confirm(pod.uid) }
            events.record(pod.object, reason: "Scheduled", message: "Successfully assigned \(pod.namespace)/\(pod.name) to \(node)")
        } catch {
            // Forget the assumption; unless the pod is gone or already bound, it is tried again after a back-off.
            cluster.apply { $0.remove(uid: pod.uid) }
            let reason = (error as? StatusError)?.reason
            logger.debug("binding failed", metadata: ["object": "\(pod.key)", "node": "\(node)", "error": "\(error)"])
            if reason != .notFound && reason != .conflict {
                queue.add(pod)
                queue.unschedulable(pod)
            }
            queue.moveAllToActive()
        }
    }

    /// Preemption: the victims go (gracefully), and the pod is nominated for the node they free.
    func evict(_ candidate: DefaultPreemption.Candidate, for pod: PodInfo) async {
        for victim in candidate.victims {
            events.record(victim.object, reason: "Preempted", message: "Preempted by pod \(pod.uid) on node \(candidate.node)")
            try? await client.delete("/api/v1/namespaces/\(victim.namespace)/pods/\(victim.name)", uid: victim.uid)
        }
        _ = try? await client.mergePatch("/api/v1/namespaces/\(pod.namespace)/pods/\(pod.name)/status",
                                         ["status": ["nominatedNodeName": .string(candidate.node)]])
        logger.info("preempted pods", metadata: ["object": "\(pod.key)", "node": "\(candidate.node)", "victims": "\(candidate.victims.count)"])
    }

    func markUnschedulable(_ pod: PodInfo, message: String) async {
        let existing = (pod.object["status"]["conditions"].arrayValue ?? []).first { $0["type"].stringValue == "PodScheduled" }
        if existing?["status"].stringValue == "False", existing?["message"].stringValue == message { return }
        events.record(pod.object, warning: true, reason: "FailedScheduling", message: message)
        let condition: JSONValue = ["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message),
                                    "lastProbeTime": nil, "lastTransitionTime": .string(KubeTime.format(time.now))]
        _ = try? await client.mergePatch("/api/v1/namespaces/\(pod.namespace)/pods/\(pod.name)/status",
                                         ["status": ["phase": "Pending", "conditions": [condition]]])
    }
}

/// A small fast generator for tie-breaks (the system one makes a syscall per number): splitmix64, seeded once
/// from the system generator.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
