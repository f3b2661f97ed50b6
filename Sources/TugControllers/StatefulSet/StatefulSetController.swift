import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Runs StatefulSets (kube-controller-manager's statefulset controller): pods with stable names `<set>-<n>`,
/// created in order and each only after the previous is Running and Ready (OrderedReady) or all at once
/// (Parallel); removed from the highest ordinal down; their claims from `volumeClaimTemplates`; rolling updates
/// from the highest ordinal to `partition`, one pod at a time; revisions kept as ControllerRevisions.
public final class StatefulSetController: Controller {
    public let name = "statefulset"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let sets: Informer
    let pods: Informer
    let revisions: Informer
    let claims: Informer
    let events: EventRecorder
    let time: any TimeSource
    let logger: Logger

    public var informers: [Informer] { [sets, pods, revisions, claims] }

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
        queue = WorkQueue(name: "statefulset", time: time)
        events = EventRecorder(client: client, component: "statefulset-controller", logger: logger)
        sets = informers.informer(.statefulSets)
        pods = informers.informer(.pods)
        revisions = informers.informer(.controllerRevisions)
        claims = informers.informer(.persistentVolumeClaims)
        ControllerClaims.addIndexes(to: pods.store)
        revisions.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        sets.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        pods.addHandler { [weak self] event in
            guard let self else { return }
            if case .updated(let old, _) = event, let owner = ControllerRef.ownerKey(of: old, .statefulSets) { queue.add(owner) }
            if let owner = ControllerRef.ownerKey(of: event.object, .statefulSets) {
                queue.add(owner)
            } else if ControllerRef.of(event.object) == nil {
                for set in sets.store.list(namespace: event.object.namespace) {
                    if let selector = try? LabelSelector.from(set["spec"]["selector"]), !selector.isEmpty, selector.matches(event.object.labels) {
                        queue.add(ObjectKey(set))
                    }
                }
            }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var set = sets.store.get(key) else { return .done }
        set.kind = "StatefulSet"
        set.apiVersion = "apps/v1"
        guard let selector = try? LabelSelector.from(set["spec"]["selector"]), !selector.isEmpty else { return .done }
        let owned = try await claimPods(set, selector: selector)
        let history = ControllerHistory(client: client, owner: set, resource: .statefulSets)
        let existingRevisions = revisions.store.byIndex(Indexes.ownerUID, set.uid).filter { ControllerRef.isControlled($0, by: set) }
        let (updateRevision, allRevisions) = try await history.ensure(existingRevisions, template: set["spec"]["template"])
        let currentName = set["status"]["currentRevision"].stringValue ?? updateRevision.name
        let currentRevision = allRevisions.first { $0.name == currentName } ?? updateRevision
        if set.deletionTimestamp == nil {
            try await step(set, pods: owned, current: currentRevision, update: updateRevision)
        }
        try await updateStatus(set, pods: owned, current: currentRevision, update: updateRevision)
        var keep: Set<String> = [currentRevision.name, updateRevision.name]
        for pod in owned { if let label = pod.labels[StatefulSetPods.revisionLabel] { keep.insert(label) } }
        try await history.prune(allRevisions, keep: keep, limit: Int(set["spec"]["revisionHistoryLimit"].intValue ?? 10))
        return .done
    }

    /// Pods this set controls; only orphans with this set's names (`<set>-<n>`) are adopted.
    func claimPods(_ set: JSONValue, selector: LabelSelector) async throws -> [JSONValue] {
        let claims = ControllerClaims(owner: set, resource: .statefulSets, selector: selector)
        return try await claims.claim(claims.candidates(in: pods.store), .pods, client: client) { StatefulSetPods.ordinal($0, of: set) != nil }
    }

    static func template(of revision: JSONValue) -> JSONValue {
        var template = revision["data"]["spec"]["template"]
        template["$patch"] = .null
        return template
    }

    /// One step toward the wanted pods. OrderedReady takes one action per step and waits for readiness between them.
    func step(_ set: JSONValue, pods owned: [JSONValue], current: JSONValue, update: JSONValue) async throws {
        let replicas = Int(set["spec"]["replicas"].intValue ?? 1)
        let start = Int(set["spec"]["ordinals"]["start"].intValue ?? 0)
        let ordered = set["spec"]["podManagementPolicy"].stringValue != "Parallel"
        let rolling = set["spec"]["updateStrategy"]["type"].stringValue ?? "RollingUpdate" == "RollingUpdate"
        let partition = Int(set["spec"]["updateStrategy"]["rollingUpdate"]["partition"].intValue ?? 0)
        var byOrdinal: [Int: JSONValue] = [:]
        for pod in owned { if let ordinal = StatefulSetPods.ordinal(pod, of: set) { byOrdinal[ordinal] = pod } }
        let wanted = start..<(start + replicas)

        // Create or replace the pods in range, lowest ordinal first.
        for ordinal in wanted {
            if let pod = byOrdinal[ordinal] {
                let phase = pod["status"]["phase"].stringValue
                if (phase == "Failed" || phase == "Succeeded"), pod.deletionTimestamp == nil {
                    try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid)
                    events.record(set, reason: "SuccessfulDelete", message: "delete Pod \(pod.name) in StatefulSet \(set.name) successful")
                    if ordered { return }
                    continue
                }
                if ordered, !StatefulSetPods.isRunningAndReady(pod) { return }
                continue
            }
            // Ordinals below the partition keep the current revision during a rolling update.
            let useCurrent = rolling && ordinal - start < partition && current.name != update.name
            let revision = useCurrent ? current : update
            try await createClaims(set, ordinal: ordinal)
            let pod = StatefulSetPods.pod(set, ordinal: ordinal, template: Self.template(of: revision), revision: revision.name)
            do {
                try await client.create(APIResource.pods.collectionPath(namespace: set.namespace), pod)
                events.record(set, reason: "SuccessfulCreate", message: "create Pod \(pod.name) in StatefulSet \(set.name) successful")
            } catch let error as StatusError where error.reason == .alreadyExists {
                // Not in the cache yet.
            }
            if ordered { return }
        }

        // Remove pods beyond the range, highest ordinal first (after the rest is ready, for OrderedReady).
        let condemned = byOrdinal.filter { !wanted.contains($0.key) }.sorted { $0.key > $1.key }
        if let first = condemned.first {
            if ordered {
                guard wanted.allSatisfy({ byOrdinal[$0].map(StatefulSetPods.isRunningAndReady) ?? false }) else { return }
                if first.value.deletionTimestamp == nil { try await deletePod(first.value, set) }
                return
            }
            for (_, pod) in condemned where pod.deletionTimestamp == nil { try await deletePod(pod, set) }
            return
        }

        // Rolling update: from the highest ordinal down to the partition, one pod at a time.
        guard rolling else { return }
        for ordinal in wanted.reversed() where ordinal - start >= partition {
            guard let pod = byOrdinal[ordinal] else { return }
            if pod.deletionTimestamp != nil || !StatefulSetPods.isRunningAndReady(pod) { return }
            if pod.labels[StatefulSetPods.revisionLabel] != update.name {
                try await deletePod(pod, set)
                return
            }
        }
    }

    func deletePod(_ pod: JSONValue, _ set: JSONValue) async throws {
        try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid)
        events.record(set, reason: "SuccessfulDelete", message: "delete Pod \(pod.name) in StatefulSet \(set.name) successful")
    }

    func createClaims(_ set: JSONValue, ordinal: Int) async throws {
        for template in set["spec"]["volumeClaimTemplates"].arrayValue ?? [] {
            let name = StatefulSetPods.claimName(template, set, ordinal)
            if claims.store.get(ObjectKey(namespace: set.namespace, name: name)) != nil { continue }
            do {
                try await client.create(APIResource.persistentVolumeClaims.collectionPath(namespace: set.namespace),
                                        StatefulSetPods.claim(template, set: set, ordinal: ordinal))
                events.record(set, reason: "SuccessfulCreate", message: "create Claim \(name) for Pod \(StatefulSetPods.name(set, ordinal)) in StatefulSet \(set.name) success")
            } catch let error as StatusError where error.reason == .alreadyExists {
                continue
            }
        }
    }

    func updateStatus(_ set: JSONValue, pods owned: [JSONValue], current: JSONValue, update: JSONValue) async throws {
        let live = owned.filter { $0.deletionTimestamp == nil || PodConditions.isActive($0) }
        let now = time.now
        let minReady = set["spec"]["minReadySeconds"].intValue ?? 0
        var status = set["status"].isNull ? JSONValue.emptyObject : set["status"]
        let replicas = Int(set["spec"]["replicas"].intValue ?? 1)
        let updated = live.filter { $0.labels[StatefulSetPods.revisionLabel] == update.name }.count
        let ready = live.filter(PodConditions.isReady).count
        var currentName = current.name
        var currentCount = live.filter { $0.labels[StatefulSetPods.revisionLabel] == current.name }.count
        // The update is complete when every wanted pod runs the update revision and is ready.
        if updated == replicas, ready >= replicas, live.count == replicas {
            currentName = update.name
            currentCount = updated
        }
        status["observedGeneration"] = .int(set.generation)
        status["replicas"] = .int(Int64(live.count))
        status["readyReplicas"] = .int(Int64(ready))
        status["availableReplicas"] = .int(Int64(live.filter { PodConditions.isAvailable($0, minReadySeconds: minReady, now: now) }.count))
        status["currentReplicas"] = .int(Int64(currentCount))
        status["updatedReplicas"] = .int(Int64(updated))
        status["currentRevision"] = .string(currentName)
        status["updateRevision"] = .string(update.name)
        if status["collisionCount"].isNull { status["collisionCount"] = 0 }
        for field in ["readyReplicas", "currentReplicas", "updatedReplicas"] where status[field] == .int(0) { status[field] = .null }
        guard status != set["status"] else { return }
        try await StatusUpdate.write(client, .statefulSets, set, status: status)
    }
}
