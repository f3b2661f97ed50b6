import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Keeps `spec.replicas` pods of each ReplicaSet running: adopts matching orphans, releases pods that stopped
/// matching, creates pods in slow-start batches and deletes the least valuable ones first, and reports
/// replicas/ready/available in status (kube-controller-manager's replicaset controller).
public final class ReplicaSetController: Controller {
    public let name = "replicaset"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let replicaSets: Informer
    let pods: Informer
    let expectations: Expectations<ObjectKey>
    let events: EventRecorder
    let time: any TimeSource
    let logger: Logger
    /// At most this many pods are created or deleted per sync (kube's burstReplicas).
    let burst = 500

    public var informers: [Informer] { [replicaSets, pods] }

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
        queue = WorkQueue(name: "replicaset", time: time)
        expectations = Expectations(time: time)
        events = EventRecorder(client: client, component: "replicaset-controller", logger: logger)
        replicaSets = informers.informer(.replicaSets)
        pods = informers.informer(.pods)
        ControllerClaims.addIndexes(to: pods.store)
        replicaSets.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        pods.addHandler { [weak self] event in self?.podChanged(event) }
    }

    // MARK: - Event handlers: only enqueue keys.

    func podChanged(_ event: InformerEvent) {
        switch event {
        case .added(let pod):
            if let owner = owner(of: pod) {
                if pod.deletionTimestamp != nil { expectations.observedDelete(owner) } else { expectations.observedAdd(owner) }
                queue.add(owner)
            } else if ControllerRef.of(pod) == nil {
                matchingReplicaSets(pod).forEach(queue.add)
            }
        case .updated(let old, let new):
            let oldOwner = owner(of: old), newOwner = owner(of: new)
            if new.deletionTimestamp != nil, old.deletionTimestamp == nil, let newOwner { expectations.observedDelete(newOwner) }
            if let oldOwner, oldOwner != newOwner { queue.add(oldOwner) }
            if let newOwner {
                queue.add(newOwner)
            } else if ControllerRef.of(new) == nil, old.labels != new.labels || oldOwner != nil {
                matchingReplicaSets(new).forEach(queue.add)
            }
        case .deleted(let pod):
            if let owner = owner(of: pod) {
                if pod.deletionTimestamp == nil { expectations.observedDelete(owner) }
                queue.add(owner)
            }
        }
    }

    /// The ReplicaSet controlling `pod`, if it is one this cache knows (same UID).
    func owner(of pod: JSONValue) -> ObjectKey? {
        guard let key = ControllerRef.ownerKey(of: pod, .replicaSets),
              let rs = replicaSets.store.get(key), ControllerRef.of(pod)?["uid"].stringValue == rs.uid else { return nil }
        return key
    }

    func matchingReplicaSets(_ pod: JSONValue) -> [ObjectKey] {
        replicaSets.store.list(namespace: pod.namespace).filter { rs in
            guard let selector = try? LabelSelector.from(rs["spec"]["selector"]), !selector.isEmpty else { return false }
            return selector.matches(pod.labels)
        }.map(ObjectKey.init)
    }

    // MARK: - Reconcile

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var rs = replicaSets.store.get(key) else {
            expectations.forget(key)
            return .done
        }
        rs.kind = "ReplicaSet"
        rs.apiVersion = "apps/v1"
        guard let selector = try? LabelSelector.from(rs["spec"]["selector"]) else { return .done }
        let owned = try await claimPods(rs, selector: selector)
        let active = owned.filter(PodConditions.isActive)
        var failure: (any Error)?
        if expectations.satisfied(key), rs.deletionTimestamp == nil {
            failure = await manageReplicas(rs, key: key, active: active)
        }
        let now = time.now
        let minReady = rs["spec"]["minReadySeconds"].intValue ?? 0
        let status = Self.status(rs, active: active, failure: failure, now: now)
        if status != rs["status"] { try await StatusUpdate.write(client, .replicaSets, rs, status: status) }
        if let failure { throw failure }
        let waits = active.compactMap { PodConditions.untilAvailable($0, minReadySeconds: minReady, now: now) }
        if let soonest = waits.min() { return .requeueAfter(.milliseconds(Int64(soonest * 1000) + 10)) }
        return .done
    }

    /// Pods this ReplicaSet controls after adopting matching orphans and releasing pods that no longer match.
    func claimPods(_ rs: JSONValue, selector: LabelSelector) async throws -> [JSONValue] {
        let claims = ControllerClaims(owner: rs, resource: .replicaSets, selector: selector)
        return try await claims.claim(claims.candidates(in: pods.store), .pods, client: client)
    }

    /// Creates or deletes pods toward `spec.replicas`; returns the first creation error, if any.
    func manageReplicas(_ rs: JSONValue, key: ObjectKey, active: [JSONValue]) async -> (any Error)? {
        let wanted = Int(rs["spec"]["replicas"].intValue ?? 1)
        let diff = active.count - wanted
        if diff < 0 {
            let count = min(-diff, burst)
            expectations.expect(key, adds: count)
            let template = rs["spec"]["template"]
            let ref = ControllerRef.reference(to: rs, .replicaSets)
            let path = APIResource.pods.collectionPath(namespace: key.namespace)
            let (created, error) = await SlowStart.run(count) { [client, events] in
                let pod = try await client.create(path, PodTemplates.pod(from: template, owner: ref, prefix: rs.name))
                events.record(rs, reason: "SuccessfulCreate", message: "Created pod: \(pod.name)")
            }
            if created < count { expectations.lowered(key, adds: count - created) }
            if let error {
                let message = (error as? StatusError)?.message ?? "\(error)"
                events.record(rs, warning: true, reason: "FailedCreate", message: "Error creating: \(message)")
            }
            return error
        }
        if diff > 0 {
            let victims = Array(PodRanking.deletionOrder(active, now: time.now).prefix(min(diff, burst)))
            expectations.expect(key, deletes: victims.count)
            await withTaskGroup(of: Void.self) { group in
                for pod in victims {
                    group.addTask { [client, events, expectations] in
                        do {
                            try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid)
                            events.record(rs, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.name)")
                        } catch {
                            expectations.lowered(key, deletes: 1)
                            events.record(rs, warning: true, reason: "FailedDelete", message: "Error deleting: \(error)")
                        }
                    }
                }
            }
        }
        return nil
    }

    static func status(_ rs: JSONValue, active: [JSONValue], failure: (any Error)?, now: Date) -> JSONValue {
        let templateLabels = rs["spec"]["template"]["metadata"]["labels"].stringMap
        let minReady = rs["spec"]["minReadySeconds"].intValue ?? 0
        var status = rs["status"].isNull ? JSONValue.emptyObject : rs["status"]
        status["replicas"] = .int(Int64(active.count))
        status["fullyLabeledReplicas"] = .int(Int64(active.filter { pod in templateLabels.allSatisfy { pod.labels[$0.key] == $0.value } }.count))
        status["readyReplicas"] = .int(Int64(active.filter(PodConditions.isReady).count))
        status["availableReplicas"] = .int(Int64(active.filter { PodConditions.isAvailable($0, minReadySeconds: minReady, now: now) }.count))
        status["observedGeneration"] = .int(rs.generation)
        var conditions = (status["conditions"].arrayValue ?? []).filter { $0["type"].stringValue != "ReplicaFailure" }
        if let failure {
            let existing = PodConditions.condition(rs, "ReplicaFailure")
            let message = (failure as? StatusError)?.message ?? "\(failure)"
            var condition: JSONValue = ["type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": .string(message)]
            condition["lastTransitionTime"] = existing?["lastTransitionTime"] ?? .string(KubeTime.format(now))
            conditions.append(condition)
        }
        status["conditions"] = conditions.isEmpty ? .null : .array(conditions)
        for field in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] where status[field] == .int(0) { status[field] = .null }
        return status
    }
}
