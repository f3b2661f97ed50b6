import Foundation
import Logging
import ServiceLifecycle
import TugAPIMachinery
import TugClient

/// The scheduler: watches nodes and pods through the API, binds each pending pod of `default-scheduler` to the
/// best node that fits (see `SchedulingFit`), and marks pods that fit nowhere `PodScheduled=False/Unschedulable`
/// with the reasons, retrying whenever nodes or pods change.
public final class Scheduler: Service, Sendable {
    let client: RESTClient
    let logger: Logger
    let state = SchedulerState()
    let events: EventRecorder

    public init(client: RESTClient, logger: Logger) {
        self.client = client
        self.logger = logger
        events = EventRecorder(client: client, component: "default-scheduler", logger: logger)
    }

    public func run() async throws {
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await Reflector(client: self.client, path: "/api/v1/nodes", logger: self.logger).run { event in
                    await self.state.apply(event, nodes: true)
                    wake.yield()
                }
            }
            group.addTask {
                await Reflector(client: self.client, path: "/api/v1/pods", logger: self.logger).run { event in
                    await self.state.apply(event, nodes: false)
                    wake.yield()
                }
            }
            group.addTask {
                for await _ in wakes {
                    await self.schedulePending()
                }
            }
            // Unschedulable pods are retried periodically too (node capacity can free up without an event we watch).
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    wake.yield()
                }
            }
            try? await gracefulShutdown()
            wake.finish()
            group.cancelAll()
        }
    }

    func schedulePending() async {
        let (nodes, pods) = await state.snapshot()
        var used: [String: SchedulingFit.Requests] = [:]
        for pod in pods.values {
            guard let node = pod["spec"]["nodeName"].stringValue, !node.isEmpty else { continue }
            let phase = pod["status"]["phase"].stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" { continue }
            let r = SchedulingFit.requests(of: pod)
            used[node, default: .init()].milliCPU += r.milliCPU
            used[node, default: .init()].memory += r.memory
            used[node, default: .init()].pods += 1
        }
        let pending = pods.values.filter { pod in
            (pod["spec"]["nodeName"].stringValue ?? "").isEmpty && pod["metadata"]["deletionTimestamp"].isNull
                && (pod["spec"]["schedulerName"].stringValue ?? "default-scheduler") == "default-scheduler"
        }.sorted { ($0["metadata"]["creationTimestamp"].stringValue ?? "", $0["metadata"]["name"].stringValue ?? "") < ($1["metadata"]["creationTimestamp"].stringValue ?? "", $1["metadata"]["name"].stringValue ?? "") }
        for pod in pending {
            var reasons: [String: Int] = [:]
            var best: (name: String, score: Double)? = nil
            for node in nodes.values.sorted(by: { ($0["metadata"]["name"].stringValue ?? "") < ($1["metadata"]["name"].stringValue ?? "") }) {
                let name = node["metadata"]["name"].stringValue ?? ""
                if let reason = SchedulingFit.unfit(pod, node: node, used: used[name] ?? .init()) {
                    reasons[reason, default: 0] += 1
                    continue
                }
                let score = SchedulingFit.score(pod, node: node, used: used[name] ?? .init())
                if best == nil || score > best!.score { best = (name, score) }
            }
            if let best {
                if await bind(pod, to: best.name) {
                    let r = SchedulingFit.requests(of: pod)
                    used[best.name, default: .init()].milliCPU += r.milliCPU
                    used[best.name, default: .init()].memory += r.memory
                    used[best.name, default: .init()].pods += 1
                    await state.assume(pod, node: best.name)
                }
            } else {
                let detail = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                let message = "0/\(nodes.count) nodes are available" + (detail.isEmpty ? "." : ": \(detail).")
                await markUnschedulable(pod, message: message)
            }
        }
    }

    func bind(_ pod: JSONValue, to node: String) async -> Bool {
        let namespace = pod["metadata"]["namespace"].stringValue ?? "default", name = pod["metadata"]["name"].stringValue ?? ""
        let binding: JSONValue = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(name), "uid": pod["metadata"]["uid"]],
                                  "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)]]
        do {
            let response = try await client.request(.POST, "/api/v1/namespaces/\(namespace)/pods/\(name)/binding", body: binding)
            if response.status == 201 || response.status == 200 {
                events.record(pod, reason: "Scheduled", message: "Successfully assigned \(namespace)/\(name) to \(node)")
                return true
            }
            logger.debug("binding failed", metadata: ["pod": "\(namespace)/\(name)", "status": "\(response.status)"])
        } catch {
            logger.debug("binding failed", metadata: ["pod": "\(namespace)/\(name)", "error": "\(error)"])
        }
        return false
    }

    func markUnschedulable(_ pod: JSONValue, message: String) async {
        let existing = (pod["status"]["conditions"].arrayValue ?? []).first { $0["type"].stringValue == "PodScheduled" }
        if existing?["status"].stringValue == "False", existing?["message"].stringValue == message { return }
        let namespace = pod["metadata"]["namespace"].stringValue ?? "default", name = pod["metadata"]["name"].stringValue ?? ""
        let condition: JSONValue = ["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message),
                                    "lastProbeTime": nil, "lastTransitionTime": .string(KubeTime.format(Date()))]
        let body: JSONValue = ["status": ["phase": "Pending", "conditions": [condition]]]
        events.record(pod, warning: true, reason: "FailedScheduling", message: message)
        _ = try? await client.request(.PATCH, "/api/v1/namespaces/\(namespace)/pods/\(name)/status", body: body,
                                      contentType: "application/merge-patch+json")
    }
}

/// The scheduler's view of the cluster, fed by its reflectors.
actor SchedulerState {
    var nodes: [String: JSONValue] = [:]
    var pods: [String: JSONValue] = [:]

    func apply(_ event: Reflector.Event, nodes isNodes: Bool) {
        func key(_ object: JSONValue) -> String { object["metadata"]["uid"].stringValue ?? "" }
        var map = isNodes ? nodes : pods
        switch event {
        case .replace(let objects): map = Dictionary(objects.map { (key($0), $0) }, uniquingKeysWith: { _, last in last })
        case .added(let object), .modified(let object): map[key(object)] = object
        case .deleted(let object): map[key(object)] = nil
        }
        if isNodes { nodes = map } else { pods = map }
    }

    func snapshot() -> ([String: JSONValue], [String: JSONValue]) { (nodes, pods) }

    /// Records a binding before the watch confirms it, so the next pods see its resources in use.
    func assume(_ pod: JSONValue, node: String) {
        var bound = pod
        bound["spec"]["nodeName"] = .string(node)
        pods[pod["metadata"]["uid"].stringValue ?? ""] = bound
    }
}
