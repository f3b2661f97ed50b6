import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Rolls Deployments out through ReplicaSets (kube-controller-manager's deployment controller): one ReplicaSet per
/// pod template, named after the template's hash; RollingUpdate within maxSurge/maxUnavailable or Recreate;
/// revision annotations that `kubectl rollout history|undo` read; pause/resume; proportional scaling; old
/// ReplicaSets beyond revisionHistoryLimit removed; Available/Progressing conditions with the progress deadline.
public final class DeploymentController: Controller {
    public let name = "deployment"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let deployments: Informer
    let replicaSets: Informer
    let pods: Informer
    let events: EventRecorder
    let time: any TimeSource
    let logger: Logger

    public var informers: [Informer] { [deployments, replicaSets, pods] }

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
        queue = WorkQueue(name: "deployment", time: time)
        events = EventRecorder(client: client, component: "deployment-controller", logger: logger)
        deployments = informers.informer(.deployments)
        replicaSets = informers.informer(.replicaSets)
        pods = informers.informer(.pods)
        ControllerClaims.addIndexes(to: replicaSets.store)
        pods.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        deployments.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        replicaSets.addHandler { [weak self] event in self?.replicaSetChanged(event) }
        pods.addHandler { [weak self] event in
            // Recreate waits for the old pods to be gone: their deletion is what lets it go on.
            guard let self, case .deleted(let pod) = event, let rsKey = ControllerRef.ownerKey(of: pod, .replicaSets),
                  let rs = replicaSets.store.get(rsKey), let owner = owner(of: rs) else { return }
            queue.add(owner)
        }
    }

    func replicaSetChanged(_ event: InformerEvent) {
        if case .updated(let old, _) = event, let previous = owner(of: old) { queue.add(previous) }
        if let owner = owner(of: event.object) {
            queue.add(owner)
        } else if ControllerRef.of(event.object) == nil {
            for d in deployments.store.list(namespace: event.object.namespace) {
                if let selector = try? LabelSelector.from(d["spec"]["selector"]), !selector.isEmpty, selector.matches(event.object.labels) {
                    queue.add(ObjectKey(d))
                }
            }
        }
    }

    func owner(of rs: JSONValue) -> ObjectKey? {
        guard let key = ControllerRef.ownerKey(of: rs, .deployments), let d = deployments.store.get(key),
              ControllerRef.isControlled(rs, by: d) else { return nil }
        return key
    }

    // MARK: - Reconcile

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var d = deployments.store.get(key) else { return .done }
        d.kind = "Deployment"
        d.apiVersion = "apps/v1"
        guard let selector = try? LabelSelector.from(d["spec"]["selector"]), !selector.isEmpty else { return .done }
        var owned = try await claimReplicaSets(d, selector: selector)
        owned.sort { ($0.creationTimestamp ?? "", $0.name) < ($1.creationTimestamp ?? "", $1.name) }
        if d.deletionTimestamp != nil {
            return try await syncStatus(d, all: owned, new: owned.first { DeploymentRollout.sameTemplate($0, d) }, rollout: false)
        }
        if try await syncPausedCondition(&d) { return .done }
        let paused = d["spec"]["paused"].boolValue == true
        if paused || isScalingEvent(d, owned) {
            return try await scaleOnly(d, owned: owned, paused: paused)
        }
        if d["spec"]["strategy"]["type"].stringValue == "Recreate" {
            return try await recreate(d, owned: owned)
        }
        return try await rollingUpdate(d, owned: owned)
    }

    /// ReplicaSets this Deployment controls after adoption and release.
    func claimReplicaSets(_ d: JSONValue, selector: LabelSelector) async throws -> [JSONValue] {
        let claims = ControllerClaims(owner: d, resource: .deployments, selector: selector)
        return try await claims.claim(claims.candidates(in: replicaSets.store), .replicaSets, client: client)
    }

    /// A change of `spec.replicas` alone: some active ReplicaSet was sized for a different count.
    func isScalingEvent(_ d: JSONValue, _ owned: [JSONValue]) -> Bool {
        let wanted = String(d["spec"]["replicas"].intValue ?? 1)
        return owned.contains { rs in
            DeploymentRollout.replicas(rs) > 0
                && rs.annotations[DeploymentRollout.desiredReplicasAnnotation].map { $0 != wanted } ?? false
        }
    }

    // MARK: Strategies

    func rollingUpdate(_ d: JSONValue, owned: [JSONValue]) async throws -> ReconcileResult {
        var d = d
        let (newRS, old) = try await newAndOld(&d, owned: owned, create: true)
        let all = old + (newRS.map { [$0] } ?? [])
        if let newRS {
            let size = DeploymentRollout.replicas(newRS)
            let target = min(DeploymentRollout.newReplicaSetReplicas(d, all: all, new: newRS), Int(d["spec"]["replicas"].intValue ?? 1))
            let wanted = size > Int(d["spec"]["replicas"].intValue ?? 1) ? Int(d["spec"]["replicas"].intValue ?? 1) : target
            if wanted != size {
                let scaled = try await scale(newRS, to: wanted, deployment: d)
                return try await syncStatus(d, all: replacing(all, scaled), new: scaled, rollout: true)
            }
        }
        let activeOld = old.filter { DeploymentRollout.replicas($0) > 0 }
        if !activeOld.isEmpty {
            let budget = DeploymentRollout.oldScaleDownBudget(d, all: all, new: newRS)
            if budget > 0 {
                var changes = DeploymentRollout.cleanUpUnhealthy(old: activeOld, budget: budget)
                if changes.isEmpty {
                    changes = DeploymentRollout.scaleDownOld(d, all: all, old: activeOld)
                }
                if !changes.isEmpty {
                    var current = all
                    for (index, size) in changes.sorted(by: { $0.key < $1.key }) {
                        current = replacing(current, try await scale(activeOld[index], to: size, deployment: d))
                    }
                    return try await syncStatus(d, all: current, new: newRS, rollout: true)
                }
            }
        }
        let result = try await syncStatus(d, all: all, new: newRS, rollout: true)
        if activeOld.isEmpty, let newRS, DeploymentRollout.replicas(newRS) == Int(d["spec"]["replicas"].intValue ?? 1) {
            try await cleanUpHistory(d, old: old)
        }
        return result
    }

    func recreate(_ d: JSONValue, owned: [JSONValue]) async throws -> ReconcileResult {
        var d = d
        var (newRS, old) = try await newAndOld(&d, owned: owned, create: false)
        let activeOld = old.filter { DeploymentRollout.replicas($0) > 0 }
        if !activeOld.isEmpty {
            var current = owned
            for rs in activeOld { current = replacing(current, try await scale(rs, to: 0, deployment: d)) }
            return try await syncStatus(d, all: current, new: newRS, rollout: true)
        }
        // Old pods must be gone (not just scaled away) before new ones start.
        let oldRunning = old.contains { rs in
            pods.store.byIndex(Indexes.ownerUID, rs.uid).contains { pod in
                let phase = pod["status"]["phase"].stringValue
                return phase != "Succeeded" && phase != "Failed"
            }
        }
        if oldRunning { return try await syncStatus(d, all: owned, new: newRS, rollout: true) }
        if newRS == nil { (newRS, old) = try await newAndOld(&d, owned: owned, create: true) }
        var all = old + (newRS.map { [$0] } ?? [])
        if let rs = newRS, DeploymentRollout.replicas(rs) != Int(d["spec"]["replicas"].intValue ?? 1) {
            let scaled = try await scale(rs, to: Int(d["spec"]["replicas"].intValue ?? 1), deployment: d)
            all = replacing(all, scaled)
            newRS = scaled
        }
        let result = try await syncStatus(d, all: all, new: newRS, rollout: true)
        if DeploymentStatus.isComplete(d, d["status"]) { try await cleanUpHistory(d, old: old) }
        return result
    }

    /// Paused, or only `replicas` changed: resize without rolling (one active ReplicaSet takes all; several
    /// share in proportion).
    func scaleOnly(_ d: JSONValue, owned: [JSONValue], paused: Bool) async throws -> ReconcileResult {
        var d = d
        let (newRS, old) = try await newAndOld(&d, owned: owned, create: false)
        let active = owned.filter { DeploymentRollout.replicas($0) > 0 }
        let sizes = DeploymentRollout.proportionalSizes(d, active: active, newest: newRS ?? owned.last)
        var current = owned
        for rs in owned {
            let size = sizes[rs.name] ?? DeploymentRollout.replicas(rs)
            let annotated = rs.annotations[DeploymentRollout.desiredReplicasAnnotation] == DeploymentRollout.sizeAnnotations(d)[DeploymentRollout.desiredReplicasAnnotation]
            if size != DeploymentRollout.replicas(rs) || (size > 0 && !annotated) {
                current = replacing(current, try await scale(rs, to: size, deployment: d))
            }
        }
        if paused { try await cleanUpHistory(d, old: old) }
        return try await syncStatus(d, all: current, new: newRS.flatMap { n in current.first { $0.name == n.name } }, rollout: !paused)
    }

    // MARK: ReplicaSets

    /// Finds the ReplicaSet running the Deployment's template (creating it when asked) and brings revisions up to
    /// date: the new ReplicaSet gets the next revision and the Deployment mirrors it.
    func newAndOld(_ d: inout JSONValue, owned: [JSONValue], create: Bool) async throws -> (JSONValue?, [JSONValue]) {
        var newRS = owned.first { DeploymentRollout.sameTemplate($0, d) }
        let old = owned.filter { $0.uid != newRS?.uid }
        let nextRevision = (old.map(DeploymentRollout.revision).max() ?? 0) + 1
        if let existing = newRS {
            let annotations = DeploymentRollout.replicaSetAnnotations(d, existing: existing.annotations, revision: nextRevision)
            if annotations != existing.annotations {
                var updated = existing
                updated.annotations = annotations
                newRS = try await client.update(APIResource.replicaSets.path(ObjectKey(existing)), updated)
            }
        } else if create {
            newRS = try await createReplicaSet(&d, revision: nextRevision, all: owned)
        }
        if let newRS, d.annotations[DeploymentRollout.revisionAnnotation] != newRS.annotations[DeploymentRollout.revisionAnnotation] {
            var annotations = d.annotations
            annotations[DeploymentRollout.revisionAnnotation] = newRS.annotations[DeploymentRollout.revisionAnnotation]
            let patched = try await client.mergePatch(APIResource.deployments.path(ObjectKey(d)), ["metadata": ["annotations": JSONValue(stringMap: annotations)]])
            d["metadata"] = patched["metadata"]
        }
        return (newRS, old)
    }

    func createReplicaSet(_ d: inout JSONValue, revision: Int64, all: [JSONValue]) async throws -> JSONValue {
        let template = d["spec"]["template"]
        let hash = DeploymentRollout.templateHash(template, collisionCount: d["status"]["collisionCount"].intValue)
        var rsTemplate = template
        var labels = template["metadata"]["labels"].stringMap
        labels[DeploymentRollout.hashLabel] = hash
        rsTemplate["metadata"]["labels"] = JSONValue(stringMap: labels)
        var selector = d["spec"]["selector"]
        var matchLabels = selector["matchLabels"].stringMap
        matchLabels[DeploymentRollout.hashLabel] = hash
        selector["matchLabels"] = JSONValue(stringMap: matchLabels)
        let size = DeploymentRollout.newReplicaSetReplicas(d, all: all, new: nil)
        var annotations = DeploymentRollout.replicaSetAnnotations(d, existing: [:], revision: revision)
        annotations.merge(DeploymentRollout.sizeAnnotations(d)) { _, new in new }
        var spec: JSONValue = ["replicas": .int(Int64(size)), "selector": selector, "template": rsTemplate]
        if let minReady = d["spec"]["minReadySeconds"].intValue { spec["minReadySeconds"] = .int(minReady) }
        let rs: JSONValue = [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": ["name": .string("\(d.name)-\(hash)"), "namespace": .string(d.namespace), "labels": JSONValue(stringMap: labels),
                         "annotations": JSONValue(stringMap: annotations), "ownerReferences": [ControllerRef.reference(to: d, .deployments)]],
            "spec": spec,
        ]
        do {
            let created = try await client.create(APIResource.replicaSets.collectionPath(namespace: d.namespace), rs)
            if size > 0 { events.record(d, reason: "ScalingReplicaSet", message: "Scaled up replica set \(created.name) from 0 to \(size)") }
            var status = d["status"].isNull ? JSONValue.emptyObject : d["status"]
            DeploymentStatus.set(&status, type: "Progressing", status: "True", reason: "NewReplicaSetCreated",
                                 message: "Created new replica set \"\(created.name)\"", now: time.now)
            var updated = d
            updated["status"] = status
            d = try await client.update(APIResource.deployments.path(ObjectKey(d), subresource: "status"), updated)
            return created
        } catch let error as StatusError where error.reason == .alreadyExists {
            // Ours, not yet in the cache: use it. Someone else's: bump collisionCount so the next hash differs.
            let existing = try await client.send(.GET, APIResource.replicaSets.path(ObjectKey(namespace: d.namespace, name: "\(d.name)-\(hash)")))
            if ControllerRef.isControlled(existing, by: d), DeploymentRollout.sameTemplate(existing, d) { return existing }
            var updated = d
            updated["status"]["collisionCount"] = .int((d["status"]["collisionCount"].intValue ?? 0) + 1)
            try await client.update(APIResource.deployments.path(ObjectKey(d), subresource: "status"), updated)
            throw error
        }
    }

    /// Resizes a ReplicaSet (an update carrying the resourceVersion read, so a stale view fails with 409 and retries).
    func scale(_ rs: JSONValue, to size: Int, deployment d: JSONValue) async throws -> JSONValue {
        var updated = rs
        let from = DeploymentRollout.replicas(rs)
        updated["spec"]["replicas"] = .int(Int64(size))
        var annotations = rs.annotations
        annotations.merge(DeploymentRollout.sizeAnnotations(d)) { _, new in new }
        updated.annotations = annotations
        let result = try await client.update(APIResource.replicaSets.path(ObjectKey(rs)), updated)
        if from != size {
            events.record(d, reason: "ScalingReplicaSet", message: "Scaled \(size > from ? "up" : "down") replica set \(rs.name) from \(from) to \(size)")
        }
        return result
    }

    /// Deletes the oldest empty old ReplicaSets beyond `revisionHistoryLimit`.
    func cleanUpHistory(_ d: JSONValue, old: [JSONValue]) async throws {
        let limit = Int(d["spec"]["revisionHistoryLimit"].intValue ?? 10)
        let empty = old.filter {
            DeploymentRollout.replicas($0) == 0 && ($0["status"]["replicas"].intValue ?? 0) == 0 && $0.deletionTimestamp == nil
        }.sorted { DeploymentRollout.revision($0) < DeploymentRollout.revision($1) }
        guard empty.count > limit else { return }
        for rs in empty.prefix(empty.count - limit) {
            try await client.delete(APIResource.replicaSets.path(ObjectKey(rs)), uid: rs.uid)
        }
    }

    func replacing(_ list: [JSONValue], _ rs: JSONValue) -> [JSONValue] {
        list.map { $0.uid == rs.uid ? rs : $0 }
    }

    // MARK: Status

    /// Pausing and resuming show in the Progressing condition before anything else happens; returns whether it wrote.
    func syncPausedCondition(_ d: inout JSONValue) async throws -> Bool {
        guard d["spec"]["progressDeadlineSeconds"].intValue != nil else { return false }
        let paused = d["spec"]["paused"].boolValue == true
        let reason = DeploymentStatus.condition(d["status"], "Progressing")?["reason"].stringValue
        var status = d["status"].isNull ? JSONValue.emptyObject : d["status"]
        if paused, reason != "DeploymentPaused" {
            DeploymentStatus.set(&status, type: "Progressing", status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused", now: time.now)
        } else if !paused, reason == "DeploymentPaused" {
            DeploymentStatus.set(&status, type: "Progressing", status: "Unknown", reason: "DeploymentResumed", message: "Deployment is resumed", now: time.now)
        } else {
            return false
        }
        var updated = d
        updated["status"] = status
        d = try await client.update(APIResource.deployments.path(ObjectKey(d), subresource: "status"), updated)
        return true
    }

    func syncStatus(_ d: JSONValue, all: [JSONValue], new: JSONValue?, rollout: Bool) async throws -> ReconcileResult {
        let now = time.now
        var status = DeploymentStatus.calculate(d, all: all, new: new, now: now)
        if rollout { DeploymentStatus.progress(d, status: &status, new: new, now: now) }
        if status != d["status"] { try await StatusUpdate.write(client, .deployments, d, status: status) }
        if rollout, let left = DeploymentStatus.untilDeadline(d, status: status, now: now) {
            return .requeueAfter(.milliseconds(Int64(left * 1000)))
        }
        return .done
    }
}
