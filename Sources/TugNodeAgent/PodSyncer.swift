import Foundation
import Logging
import Synchronization
import TugAPIMachinery
import TugRuntime

/// Writes what the agent decides back to the API.
protocol PodStatusWriter: Sendable {
    func patchStatus(namespace: String, name: String, uid: String, status: JSONValue) async throws
    /// The final delete of a pod whose containers are gone (grace period 0, precondition on uid).
    func deletePod(namespace: String, name: String, uid: String) async throws
}

/// Per-pod facts the agent remembers between syncs (lost on restart, rebuilt from the runtime and the API).
final class PodMemory: Sendable {
    private let waitingReasons = Mutex<[String: [String: (reason: String, message: String)]]>([:])
    private let reported = Mutex<JSONObject>([:])

    func waiting(_ uid: String) -> [String: (reason: String, message: String)] { waitingReasons.withLock { $0[uid] ?? [:] } }
    func setWaiting(_ uid: String, _ name: String, _ value: (reason: String, message: String)?) {
        waitingReasons.withLock { $0[uid, default: [:]][name] = value }
    }
    func lastReported(_ uid: String) -> JSONValue? { reported.withLock { $0[uid] } }
    func setReported(_ uid: String, _ status: JSONValue) { reported.withLock { $0[uid] = status } }
    func forget(_ uid: String) {
        waitingReasons.withLock { $0[uid] = nil }
        _ = reported.withLock { $0.removeValue(forKey: uid) }
    }
}

/// One pass of the kubelet's syncPod for one pod: make the runtime match the spec (sandbox, init containers in
/// order, containers with restart policy and back-off, liveness kills), then report the status. Returns when to
/// look again if something is waiting on time (a back-off), nil otherwise.
struct PodSyncer: Sendable {
    let nodeName: String
    let hostIP: String
    let podsRoot: String
    let runtime: any ContainerRuntime
    let images: any ImageProvider
    let volumes: VolumeManager
    let cluster: any ClusterReader
    let writer: any PodStatusWriter
    let backoff: RestartBackoff
    let probes: ProbeManager
    let memory: PodMemory
    let sandboxes: SandboxConfigBuilder
    let security: ContainerSecurity
    let events: any PodEvents
    let logger: Logger

    func sync(_ pod: JSONValue) async -> Duration? {
        let uid = pod["metadata"]["uid"].stringValue ?? ""
        if pod["metadata"]["deletionTimestamp"] != .null {
            await terminate(uid: uid, pod: pod, deleteFromAPI: true)
            return nil
        }
        do {
            return try await reconcile(pod, uid: uid)
        } catch {
            logger.warning("pod sync failed", metadata: ["pod": "\(podName(pod))", "error": "\(error)"])
            return .seconds(2)
        }
    }

    func podName(_ pod: JSONValue) -> String {
        "\(pod["metadata"]["namespace"].stringValue ?? "")/\(pod["metadata"]["name"].stringValue ?? "")"
    }

    func reconcile(_ pod: JSONValue, uid: String) async throws -> Duration? {
        let allSandboxes = try await runtime.sandboxes().filter { $0.podUID == uid }
        var containers = try await runtime.containers(ofPod: uid)
        let phase = pod["status"]["phase"].stringValue ?? ""
        let terminal = phase == "Succeeded" || phase == "Failed"
        var sandbox = allSandboxes.filter { $0.state == .ready }.max { $0.attempt < $1.attempt }
        var requeue: Duration? = nil
        var context = StartContext(pod: pod, uid: uid)

        if terminal {
            // A finished pod keeps its containers (for logs) but gives back its address and processes.
            for box in allSandboxes where box.state == .ready { try await runtime.stopSandbox(box.id) }
            sandbox = nil
        } else if sandbox == nil {
            if !allSandboxes.isEmpty, isFinished(pod, containers: containers) {
                try await report(pod, uid: uid, sandbox: nil, containers: containers)
                return nil
            }
            for container in containers where container.state == .running { try await runtime.stopContainer(container.id, gracePeriod: .zero) }
            for box in allSandboxes { try await runtime.stopSandbox(box.id) }
            let attempt = (allSandboxes.map(\.attempt).max() ?? -1) + 1
            logger.info("creating pod sandbox", metadata: ["pod": "\(podName(pod))", "attempt": "\(attempt)"])
            do {
                sandbox = try await runtime.runSandbox(sandboxes.build(pod: pod, attempt: attempt))
            } catch {
                logger.warning("creating pod sandbox failed", metadata: ["pod": "\(podName(pod))", "error": "\(error)"])
                events.warning(pod, "FailedCreatePodSandBox", "Failed to create pod sandbox: \(error)")
                for spec in (pod["spec"]["containers"].arrayValue ?? []) {
                    memory.setWaiting(uid, spec["name"].stringValue ?? "", ("ContainerCreating", "failed to create pod sandbox: \(error)"))
                }
                requeue = .seconds(5)
            }
            containers = try await runtime.containers(ofPod: uid)
        }

        if let sandbox, !terminal {
            requeue = earliest(requeue, try await runContainers(pod, uid: uid, sandbox: sandbox, containers: containers, context: &context))
            // Running pods see ConfigMap, Secret and token updates in their volumes (the kubelet's periodic sync).
            if VolumeManager.hasAPIVolumes(pod) {
                if context.volumes == nil { _ = try? await volumes.prepare(pod: pod, hostIP: hostIP, podIP: sandbox.ip) }
                requeue = earliest(requeue, Self.resyncPeriod)
            }
            containers = try await runtime.containers(ofPod: uid)
            let removed = try await collectGarbage(containers)
            containers.removeAll { removed.contains($0.id) }
        }
        try await report(pod, uid: uid, sandbox: sandbox, containers: containers)
        return requeue
    }

    /// How often a running pod with API-backed volumes is synced even when nothing happened.
    static let resyncPeriod = Duration.seconds(60)

    func earliest(_ a: Duration?, _ b: Duration?) -> Duration? {
        switch (a, b) {
        case (nil, let x), (let x, nil): return x
        case (let x?, let y?): return min(x, y)
        }
    }

    /// Whether every container has ended in a way its restart policy does not restart.
    func isFinished(_ pod: JSONValue, containers: [ContainerInfo]) -> Bool {
        let policy = pod["spec"]["restartPolicy"].stringValue ?? "Always"
        guard policy != "Always" else { return false }
        return (pod["spec"]["containers"].arrayValue ?? []).allSatisfy { spec in
            guard let latest = latest(named: spec["name"].stringValue ?? "", isInit: false, in: containers), latest.state == .exited else { return false }
            return policy == "Never" || latest.exitCode == 0
        }
    }

    func latest(named name: String, isInit: Bool, in containers: [ContainerInfo]) -> ContainerInfo? {
        containers.filter { $0.name == name && $0.labels[ContainerLabels.isInit] == (isInit ? "true" : "false") }
            .max { ($0.attempt, $0.createdAt) < ($1.attempt, $1.createdAt) }
    }

    /// Init containers one at a time, each to success; then every container, restarted by policy with back-off.
    func runContainers(_ pod: JSONValue, uid: String, sandbox: SandboxInfo, containers: [ContainerInfo], context: inout StartContext) async throws -> Duration? {
        let policy = pod["spec"]["restartPolicy"].stringValue ?? "Always"
        var requeue: Duration? = nil
        for spec in pod["spec"]["initContainers"].arrayValue ?? [] {
            let name = spec["name"].stringValue ?? ""
            let current = latest(named: name, isInit: true, in: containers)
            if let current, current.sandboxID == sandbox.id, current.state == .exited, current.exitCode == 0 { continue }
            if let current, current.state == .running { return nil }
            if let current, current.sandboxID == sandbox.id, current.state == .exited {
                if policy == "Never" { return nil }
                if let wait = backoffWait(pod, uid: uid, name: name, finished: current) { return wait }
            }
            let attempt = current.map { $0.attempt + 1 } ?? 0
            if current != nil { backoff.restarted("\(uid)/\(name)") }
            _ = await start(spec, isInit: true, attempt: attempt, sandbox: sandbox, context: &context)
            return nil
        }
        for spec in pod["spec"]["containers"].arrayValue ?? [] {
            let name = spec["name"].stringValue ?? ""
            var current = latest(named: name, isInit: false, in: containers)
            if var running = current, running.state == .running {
                if running.sandboxID != sandbox.id || probes.livenessFailed(running.id) {
                    if running.sandboxID == sandbox.id {
                        logger.info("container failed liveness probe, will be restarted", metadata: ["pod": "\(podName(pod))", "container": "\(name)"])
                        events.normal(pod, container: name, "Killing", "Container \(name) failed liveness probe, will be restarted")
                    }
                    try await runtime.stopContainer(running.id, gracePeriod: gracePeriod(pod))
                    running = try await runtime.containers(ofPod: uid).first { $0.id == running.id } ?? running
                    current = running
                } else {
                    memory.setWaiting(uid, name, nil)
                    continue
                }
            }
            if let current, current.state == .exited {
                let restart = policy == "Always" || (policy == "OnFailure" && current.exitCode != 0)
                guard restart else { continue }
                if let wait = backoffWait(pod, uid: uid, name: name, finished: current) {
                    requeue = earliest(requeue, wait)
                    continue
                }
                backoff.restarted("\(uid)/\(name)")
            } else if current == nil, let waiting = memory.waiting(uid)[name], waiting.reason == "ErrImagePull" || waiting.reason == "ImagePullBackOff" {
                let remaining = backoff.remainingSinceLast("\(uid)/\(name)/pull")
                if remaining > 0 {
                    if waiting.reason != "ImagePullBackOff" {
                        events.normal(pod, container: name, "BackOff", "Back-off pulling image \"\(spec["image"].stringValue ?? "")\"")
                    }
                    let message = waiting.reason == "ImagePullBackOff" ? waiting.message : "Back-off pulling image \"\(spec["image"].stringValue ?? "")\": \(waiting.message)"
                    memory.setWaiting(uid, name, ("ImagePullBackOff", message))
                    requeue = earliest(requeue, .milliseconds(Int64(remaining * 1000) + 10))
                    continue
                }
            }
            let attempt = current.map { $0.attempt + 1 } ?? 0
            if await !start(spec, isInit: false, attempt: attempt, sandbox: sandbox, context: &context) {
                requeue = earliest(requeue, .milliseconds(Int64(max(1, backoff.remainingSinceLast("\(uid)/\(name)/pull")) * 1000)))
            }
        }
        return requeue
    }

    /// CrashLoopBackOff: the wait left before `name` may restart, with the waiting reason recorded; nil to restart now.
    func backoffWait(_ pod: JSONValue, uid: String, name: String, finished container: ContainerInfo) -> Duration? {
        let key = "\(uid)/\(name)"
        let finished = container.finishedAt.flatMap(KubeTime.parse)?.timeIntervalSince1970 ?? RestartBackoff.now()
        let remaining = backoff.remaining(key, finished: finished)
        guard remaining > 0 else { return nil }
        let delay = Int(backoff.delay(key))
        let podRef = "\(pod["metadata"]["name"].stringValue ?? "")_\(pod["metadata"]["namespace"].stringValue ?? "")(\(uid))"
        let message = "back-off \(KubeTime.humanDuration(Double(delay))) restarting failed container=\(name) pod=\(podRef)"
        if memory.waiting(uid)[name]?.reason != "CrashLoopBackOff" {
            events.warning(pod, container: name, "BackOff", "Back-off restarting failed container \(name) in pod \(podRef)")
        }
        memory.setWaiting(uid, name, ("CrashLoopBackOff", message))
        return .milliseconds(Int64(remaining * 1000) + 10)
    }

    func gracePeriod(_ pod: JSONValue) -> Duration {
        .seconds(pod["metadata"]["deletionGracePeriodSeconds"].intValue ?? pod["spec"]["terminationGracePeriodSeconds"].intValue ?? 30)
    }

    /// Keeps the newest two attempts of each container (the current one and `--previous`), removes older ones;
    /// returns the IDs removed.
    @discardableResult
    func collectGarbage(_ containers: [ContainerInfo]) async throws -> Set<String> {
        var removed = Set<String>()
        let groups = Dictionary(grouping: containers.filter { $0.state == .exited }) { "\($0.labels[ContainerLabels.isInit] ?? "")/\($0.name)" }
        for (_, group) in groups {
            let sorted = group.sorted { ($0.attempt, $0.createdAt) > ($1.attempt, $1.createdAt) }
            for old in sorted.dropFirst(2) {
                try await runtime.removeContainer(old.id)
                removed.insert(old.id)
            }
        }
        return removed
    }

    func report(_ pod: JSONValue, uid: String, sandbox: SandboxInfo?, containers: [ContainerInfo]) async throws {
        var messages: [String: String] = [:]
        for container in containers where container.state == .exited {
            if let text = terminationMessage(uid: uid, container: container) { messages[container.id] = text }
        }
        let observation = PodObservation(pod: pod, sandbox: sandbox, containers: containers, waiting: memory.waiting(uid),
                                         ready: probes.readiness(), started: probes.startup(), messages: messages,
                                         hostIP: hostIP, now: KubeTime.format(Date()))
        let status = PodStatusBuilder.build(observation)
        if memory.lastReported(uid) == status { return }
        if status == pod["status"] {
            memory.setReported(uid, status)
            return
        }
        try await writer.patchStatus(namespace: pod["metadata"]["namespace"].stringValue ?? "", name: pod["metadata"]["name"].stringValue ?? "",
                                     uid: uid, status: status)
        memory.setReported(uid, status)
    }
}

enum ContainerLabels {
    static let isInit = "tug.container.init"
}
