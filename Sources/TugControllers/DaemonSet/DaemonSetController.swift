import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Runs one pod of each DaemonSet on every node that should have it (kube-controller-manager's daemonset
/// controller): new nodes get one, nodes that stop qualifying lose theirs, failed pods are replaced; RollingUpdate
/// replaces outdated pods with at most `maxUnavailable` missing at a time, OnDelete waits for them to be deleted.
public final class DaemonSetController: Controller {
    public let name = "daemonset"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let sets: Informer
    let pods: Informer
    let nodes: Informer
    let revisions: Informer
    let events: EventRecorder
    let time: any TimeSource
    let logger: Logger

    public var informers: [Informer] { [sets, pods, nodes, revisions] }

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
        queue = WorkQueue(name: "daemonset", time: time)
        events = EventRecorder(client: client, component: "daemonset-controller", logger: logger)
        sets = informers.informer(.daemonSets)
        pods = informers.informer(.pods)
        nodes = informers.informer(.nodes)
        revisions = informers.informer(.controllerRevisions)
        pods.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        revisions.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        sets.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        pods.addHandler { [queue] event in
            if let owner = ControllerRef.ownerKey(of: event.object, .daemonSets) { queue.add(owner) }
        }
        // A node change can change which sets belong on it.
        nodes.addHandler { [weak self] event in
            guard let self else { return }
            if case .updated(let old, let new) = event, old.labels == new.labels, old["spec"] == new["spec"],
               PodConditions.condition(old, "Ready")?["status"] == PodConditions.condition(new, "Ready")?["status"] { return }
            for set in sets.store.list() { queue.add(ObjectKey(set)) }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var set = sets.store.get(key) else { return .done }
        set.kind = "DaemonSet"
        set.apiVersion = "apps/v1"
        let history = ControllerHistory(client: client, owner: set, resource: .daemonSets)
        let owned = revisions.store.byIndex(Indexes.ownerUID, set.uid).filter { ControllerRef.isControlled($0, by: set) }
        let template = DaemonSetPods.template(set)
        let (revision, allRevisions) = try await history.ensure(owned, template: set["spec"]["template"])
        let hash = revision.labels["controller-revision-hash"] ?? revision.name
        let setPods = pods.store.byIndex(Indexes.ownerUID, set.uid).filter { ControllerRef.isControlled($0, by: set) }
        var byNode: [String: [JSONValue]] = [:]
        for pod in setPods { if let node = DaemonSetPods.node(of: pod) { byNode[node, default: []].append(pod) } }
        let allNodes = nodes.store.list()
        if set.deletionTimestamp == nil {
            try await manage(set, nodes: allNodes, byNode: byNode, template: template, hash: hash)
        }
        try await updateStatus(set, nodes: allNodes, byNode: byNode, hash: hash)
        var keep: Set<String> = [revision.name]
        for pod in setPods { if let label = pod.labels["controller-revision-hash"] { keep.insert("\(set.name)-\(label)") } }
        try await history.prune(allRevisions, keep: keep, limit: Int(set["spec"]["revisionHistoryLimit"].intValue ?? 10))
        let minReady = set["spec"]["minReadySeconds"].intValue ?? 0
        let waits = setPods.compactMap { PodConditions.untilAvailable($0, minReadySeconds: minReady, now: time.now) }
        if let soonest = waits.min() { return .requeueAfter(.milliseconds(Int64(soonest * 1000) + 10)) }
        return .done
    }

    func manage(_ set: JSONValue, nodes: [JSONValue], byNode: [String: [JSONValue]], template: JSONValue, hash: String) async throws {
        var creates: [String] = [], deletes: [JSONValue] = []
        for node in nodes {
            let name = node.name
            let here = (byNode[name] ?? []).filter { $0.deletionTimestamp == nil }
            guard DaemonSetPods.shouldRun(set, on: node) else {
                if !DaemonSetPods.shouldContinueRunning(set, on: node) { deletes += here }
                continue
            }
            let failed = here.filter { $0["status"]["phase"].stringValue == "Failed" }
            deletes += failed
            let live = here.filter { $0["status"]["phase"].stringValue != "Failed" }
            if live.isEmpty, (byNode[name] ?? []).allSatisfy({ $0.deletionTimestamp == nil || $0["status"]["phase"].stringValue == "Failed" }) {
                creates.append(name)
            } else if live.count > 1 {
                // Keep the oldest; extra copies go.
                deletes += live.sorted { ($0.creationTimestamp ?? "") < ($1.creationTimestamp ?? "") }.dropFirst()
            }
        }
        // Nodes that no longer exist take their pods with them.
        let known = Set(nodes.map(\.name))
        for (node, pods) in byNode where !known.contains(node) { deletes += pods.filter { $0.deletionTimestamp == nil } }
        deletes += rollingUpdateVictims(set, nodes: nodes, byNode: byNode, hash: hash)
        for pod in deletes {
            try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid)
            events.record(set, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.name)")
        }
        for node in creates {
            let pod = try await client.create(APIResource.pods.collectionPath(namespace: set.namespace),
                                              DaemonSetPods.pod(set, node: node, template: template, revision: hash))
            events.record(set, reason: "SuccessfulCreate", message: "Created pod: \(pod.name)")
        }
    }

    /// Outdated pods to replace now: as many as `maxUnavailable` allows beyond the pods already unavailable.
    func rollingUpdateVictims(_ set: JSONValue, nodes: [JSONValue], byNode: [String: [JSONValue]], hash: String) -> [JSONValue] {
        guard set["spec"]["updateStrategy"]["type"].stringValue ?? "RollingUpdate" == "RollingUpdate" else { return [] }
        let eligible = nodes.filter { DaemonSetPods.shouldRun(set, on: $0) }
        let maxUnavailable = max(1, DeploymentRollout.scaled(set["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"], of: eligible.count,
                                                               roundUp: true, default: "1"))
        let minReady = set["spec"]["minReadySeconds"].intValue ?? 0
        var unavailable = 0
        var outdated: [JSONValue] = []
        for node in eligible {
            let live = (byNode[node.name] ?? []).filter { $0.deletionTimestamp == nil }
            guard let pod = live.first else { unavailable += 1; continue }
            if !PodConditions.isAvailable(pod, minReadySeconds: minReady, now: time.now) { unavailable += 1; continue }
            if pod.labels["controller-revision-hash"] != hash { outdated.append(pod) }
        }
        return Array(outdated.sorted { $0.name < $1.name }.prefix(max(0, maxUnavailable - unavailable)))
    }

    func updateStatus(_ set: JSONValue, nodes: [JSONValue], byNode: [String: [JSONValue]], hash: String) async throws {
        let minReady = set["spec"]["minReadySeconds"].intValue ?? 0
        var desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0
        for node in nodes {
            let live = (byNode[node.name] ?? []).filter { $0.deletionTimestamp == nil }
            if DaemonSetPods.shouldRun(set, on: node) {
                desired += 1
                guard let pod = live.first else { continue }
                current += 1
                if PodConditions.isReady(pod) { ready += 1 }
                if PodConditions.isAvailable(pod, minReadySeconds: minReady, now: time.now) { available += 1 }
                if pod.labels["controller-revision-hash"] == hash { updated += 1 }
            } else if !live.isEmpty {
                misscheduled += 1
            }
        }
        var status = set["status"].isNull ? JSONValue.emptyObject : set["status"]
        status["desiredNumberScheduled"] = .int(Int64(desired))
        status["currentNumberScheduled"] = .int(Int64(current))
        status["numberMisscheduled"] = .int(Int64(misscheduled))
        status["numberReady"] = .int(Int64(ready))
        status["numberAvailable"] = available == 0 ? .null : .int(Int64(available))
        status["numberUnavailable"] = desired - available == 0 ? .null : .int(Int64(desired - available))
        status["updatedNumberScheduled"] = updated == 0 ? .null : .int(Int64(updated))
        status["observedGeneration"] = .int(set.generation)
        guard status != set["status"] else { return }
        try await StatusUpdate.write(client, .daemonSets, set, status: status)
    }
}
