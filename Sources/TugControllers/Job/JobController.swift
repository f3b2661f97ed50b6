import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Runs Jobs to completion (kube-controller-manager's job controller): pods up to `parallelism` until
/// `completions` succeed (or, without completions, until one succeeds and the rest finish); failures retried with
/// back-off up to `backoffLimit`; `activeDeadlineSeconds`; Indexed completion mode; suspend; `Complete`/`Failed`
/// conditions; and removal `ttlSecondsAfterFinished` after the end. Finished pods are counted exactly once through
/// the `batch.kubernetes.io/job-tracking` finalizer, so deleting a finished pod never loses or repeats a count.
public final class JobController: Controller {
    public let name = "job"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let jobs: Informer
    let pods: Informer
    let expectations: Expectations<ObjectKey>
    let events: EventRecorder
    let time: any TimeSource
    let logger: Logger

    public var informers: [Informer] { [jobs, pods] }

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
        queue = WorkQueue(name: "job", time: time)
        expectations = Expectations(time: time)
        events = EventRecorder(client: client, component: "job-controller", logger: logger)
        jobs = informers.informer(.jobs)
        pods = informers.informer(.pods)
        pods.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        jobs.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        pods.addHandler { [weak self] event in
            guard let self, let owner = ControllerRef.ownerKey(of: event.object, .jobs) else { return }
            switch event {
            case .added: expectations.observedAdd(owner)
            case .updated(let old, let new) where old.deletionTimestamp == nil && new.deletionTimestamp != nil: expectations.observedDelete(owner)
            case .deleted(let pod) where pod.deletionTimestamp == nil: expectations.observedDelete(owner)
            default: break
            }
            queue.add(owner)
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var job = jobs.store.get(key) else {
            expectations.forget(key)
            return .done
        }
        job.kind = "Job"
        job.apiVersion = "batch/v1"
        let owned = pods.store.byIndex(Indexes.ownerUID, job.uid).filter { ControllerRef.isControlled($0, by: job) }
        let now = time.now
        // Count finished pods exactly once: uncounted → finalizer removed → counted.
        if try await track(&job, pods: owned) { return .done }
        if Self.finished(job) {
            return try await afterFinish(job, pods: owned, now: now)
        }
        var status = job["status"].isNull ? JSONValue.emptyObject : job["status"]
        let suspended = job["spec"]["suspend"].boolValue == true
        if !suspended, status["startTime"].isNull { status["startTime"] = .string(KubeTime.format(now)) }
        let active = owned.filter { JobPods.outcome($0) == .running }
        let failed = Int(status["failed"].intValue ?? 0)
        let restarts = job["spec"]["template"]["spec"]["restartPolicy"].stringValue == "OnFailure"
            ? Int(active.reduce(0) { $0 + PodConditions.restarts($1) }) : 0
        let backoffLimit = Int(job["spec"]["backoffLimit"].intValue ?? 6)
        var requeue: TimeInterval?

        if failed + restarts > backoffLimit {
            try await fail(&status, job: job, active: active, reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", now: now)
        } else if let deadline = job["spec"]["activeDeadlineSeconds"].intValue, !suspended,
                  let start = status["startTime"].stringValue.flatMap(KubeTime.parse), now.timeIntervalSince(start) >= Double(deadline) {
            try await fail(&status, job: job, active: active, reason: "DeadlineExceeded", message: "Job was active longer than specified deadline", now: now)
        } else if Self.complete(job, status: status, active: active.count) {
            // Complete: stop whatever is still running (completions reached), then record it.
            for pod in active { try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid) }
            Self.setCondition(&status, "Complete", reason: nil, message: nil, now: now)
            status["completionTime"] = .string(KubeTime.format(now))
            events.record(job, reason: "Completed", message: "Job completed")
        } else if expectations.satisfied(key) {
            requeue = try await manage(job, key: key, status: &status, active: active, owned: owned, now: now)
        }
        Self.setSuspended(&status, suspended: suspended, now: now)
        status["active"] = .int(Int64(active.count))
        status["ready"] = .int(Int64(active.filter(PodConditions.isReady).count))
        status["terminating"] = .int(Int64(owned.filter { $0.deletionTimestamp != nil && JobPods.outcome($0) == .failed && $0["status"]["phase"].stringValue != "Failed" }.count))
        if status["uncountedTerminatedPods"].isNull { status["uncountedTerminatedPods"] = .emptyObject }
        for field in ["active", "terminating"] where status[field] == .int(0) { status[field] = .null }
        if status != job["status"] {
            job["status"] = status
            try await client.update(APIResource.jobs.path(key, subresource: "status"), job)
        }
        if Self.finished(job) { return try await afterFinish(job, pods: owned, now: now) }
        var waits = [requeue].compactMap { $0 }
        if let deadline = job["spec"]["activeDeadlineSeconds"].intValue, let start = status["startTime"].stringValue.flatMap(KubeTime.parse) {
            waits.append(Double(deadline) - now.timeIntervalSince(start))
        }
        if let soonest = waits.filter({ $0 > 0 }).min() { return .requeueAfter(.milliseconds(Int64(soonest * 1000) + 10)) }
        return .done
    }

    // MARK: Counting

    /// Moves finished pods through uncountedTerminatedPods into the counts; returns whether it wrote status (the
    /// write's own event brings the Job back).
    func track(_ job: inout JSONValue, pods: [JSONValue]) async throws -> Bool {
        var status = job["status"].isNull ? JSONValue.emptyObject : job["status"]
        var uncountedSucceeded = Set((status["uncountedTerminatedPods"]["succeeded"].arrayValue ?? []).compactMap(\.stringValue))
        var uncountedFailed = Set((status["uncountedTerminatedPods"]["failed"].arrayValue ?? []).compactMap(\.stringValue))
        var completed = JobPods.parseIntervals(status["completedIndexes"].stringValue ?? "")
        let byUID = Dictionary(pods.map { ($0.uid, $0) }, uniquingKeysWith: { a, _ in a })
        // 1. Finished pods still carrying the finalizer are recorded as uncounted (durably, before anything else).
        var recorded = false
        for pod in pods where pod.finalizers.contains(JobPods.trackingFinalizer) {
            guard !uncountedSucceeded.contains(pod.uid), !uncountedFailed.contains(pod.uid) else { continue }
            switch JobPods.outcome(pod) {
            case .succeeded: uncountedSucceeded.insert(pod.uid); recorded = true
            case .failed: uncountedFailed.insert(pod.uid); recorded = true
            case .running: continue
            }
        }
        if recorded {
            status["uncountedTerminatedPods"] = Self.uncounted(uncountedSucceeded, uncountedFailed)
            job["status"] = status
            job = try await client.update(APIResource.jobs.path(ObjectKey(job), subresource: "status"), job)
        }
        // 2. Their finalizers come off.
        for uid in uncountedSucceeded.union(uncountedFailed) {
            guard let pod = byUID[uid], pod.finalizers.contains(JobPods.trackingFinalizer) else { continue }
            try await removeFinalizer(pod)
        }
        // 3. Uncounted pods become counts (the finalizers are gone, or the pods are).
        guard !uncountedSucceeded.isEmpty || !uncountedFailed.isEmpty else { return recorded }
        status = job["status"]
        status["succeeded"] = .int((status["succeeded"].intValue ?? 0) + Int64(uncountedSucceeded.count))
        status["failed"] = .int((status["failed"].intValue ?? 0) + Int64(uncountedFailed.count))
        if job["spec"]["completionMode"].stringValue == "Indexed" {
            for uid in uncountedSucceeded { if let index = byUID[uid].flatMap(JobPods.index) { completed.insert(index) } }
            status["completedIndexes"] = completed.isEmpty ? .null : .string(JobPods.intervals(completed))
        }
        status["uncountedTerminatedPods"] = .emptyObject
        for field in ["succeeded", "failed"] where status[field] == .int(0) { status[field] = .null }
        job["status"] = status
        job = try await client.update(APIResource.jobs.path(ObjectKey(job), subresource: "status"), job)
        return true
    }

    static func uncounted(_ succeeded: Set<String>, _ failed: Set<String>) -> JSONValue {
        var out = JSONValue.emptyObject
        if !succeeded.isEmpty { out["succeeded"] = .array(succeeded.sorted().map(JSONValue.string)) }
        if !failed.isEmpty { out["failed"] = .array(failed.sorted().map(JSONValue.string)) }
        return out
    }

    func removeFinalizer(_ pod: JSONValue) async throws {
        let remaining = pod.finalizers.filter { $0 != JobPods.trackingFinalizer }
        do {
            try await client.mergePatch(APIResource.pods.path(ObjectKey(pod)),
                                        ["metadata": ["finalizers": remaining.isEmpty ? .null : .array(remaining.map(JSONValue.string)),
                                                      "resourceVersion": .string(pod.resourceVersion)]])
        } catch let error as StatusError where error.reason == .notFound {
            return
        }
    }

    // MARK: Decisions

    static func finished(_ job: JSONValue) -> Bool {
        (job["status"]["conditions"].arrayValue ?? []).contains {
            ($0["type"] == "Complete" || $0["type"] == "Failed") && $0["status"] == "True"
        }
    }

    /// The indexes completed by the status, and by succeeded pods the status may not show yet.
    func completedIndexes(_ status: JSONValue, owned: [JSONValue]) -> Set<Int> {
        JobPods.parseIntervals(status["completedIndexes"].stringValue ?? "")
            .union(owned.filter { JobPods.outcome($0) == .succeeded }.compactMap(JobPods.index))
    }

    static func complete(_ job: JSONValue, status: JSONValue, active: Int) -> Bool {
        let succeeded = Int(status["succeeded"].intValue ?? 0)
        if let completions = job["spec"]["completions"].intValue {
            if job["spec"]["completionMode"].stringValue == "Indexed" {
                return JobPods.parseIntervals(status["completedIndexes"].stringValue ?? "").filter { $0 < completions }.count >= completions
            }
            return succeeded >= Int(completions)
        }
        return succeeded > 0 && active == 0
    }

    func fail(_ status: inout JSONValue, job: JSONValue, active: [JSONValue], reason: String, message: String, now: Date) async throws {
        for pod in active { try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid) }
        Self.setCondition(&status, "Failed", reason: reason, message: message, now: now)
        events.record(job, warning: true, reason: reason, message: message)
    }

    /// Starts or stops pods toward the wanted number of active ones; returns when to look again (back-off).
    func manage(_ job: JSONValue, key: ObjectKey, status: inout JSONValue, active: [JSONValue], owned: [JSONValue], now: Date) async throws -> TimeInterval? {
        let parallelism = Int(job["spec"]["parallelism"].intValue ?? 1)
        let succeeded = Int(status["succeeded"].intValue ?? 0)
        let indexed = job["spec"]["completionMode"].stringValue == "Indexed"
        var wanted: Int
        if job["spec"]["suspend"].boolValue == true {
            wanted = 0
        } else if let completions = job["spec"]["completions"].intValue {
            // The Job in the cache may predate the status this controller just wrote (its pod events can come
            // first): the succeeded pods themselves count too, or a pod would be started for a completion already
            // made (and deleted, as failed, once the Job completes).
            let done = indexed ? completedIndexes(status, owned: owned).count
                : max(succeeded, owned.filter { JobPods.outcome($0) == .succeeded }.count)
            wanted = min(parallelism, Int(completions) - done)
        } else {
            wanted = succeeded > 0 ? 0 : parallelism
        }
        wanted = max(0, wanted)
        if active.count > wanted {
            let extra = PodRanking.deletionOrder(active, now: now).prefix(active.count - wanted)
            expectations.expect(key, deletes: extra.count)
            for pod in extra { try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid) }
            return nil
        }
        guard active.count < wanted else { return nil }
        // Failed pods are replaced after a back-off that grows with each failure.
        let failures = Int(status["failed"].intValue ?? 0)
        if failures > 0, let last = owned.filter({ JobPods.outcome($0) == .failed }).compactMap(JobPods.finishedAt).max() {
            let wait = JobPods.backoff(failures: failures) - now.timeIntervalSince(last)
            if wait > 0 { return wait }
        }
        var indexes: [Int?] = Array(repeating: nil, count: wanted - active.count)
        if indexed, let completions = job["spec"]["completions"].intValue {
            let taken = completedIndexes(status, owned: owned).union(active.compactMap(JobPods.index))
            indexes = (0..<Int(completions)).filter { !taken.contains($0) }.prefix(wanted - active.count).map { $0 }
        }
        guard !indexes.isEmpty else { return nil }
        expectations.expect(key, adds: indexes.count)
        let queue = Mutex(indexes)
        let (created, error) = await SlowStart.run(indexes.count) { [client, events] in
            let index = queue.withLock { $0.removeFirst() }
            let pod = try await client.create(APIResource.pods.collectionPath(namespace: key.namespace), Self.pod(for: job, index: index))
            events.record(job, reason: "SuccessfulCreate", message: "Created pod: \(pod.name)")
        }
        if created < indexes.count { expectations.lowered(key, adds: indexes.count - created) }
        if let error {
            events.record(job, warning: true, reason: "FailedCreate", message: "Error creating: \((error as? StatusError)?.message ?? "\(error)")")
            throw error
        }
        return nil
    }

    /// A pod for the Job: the template, the tracking finalizer, and in Indexed mode its index (annotation, label,
    /// hostname `<job>-<index>`, and `JOB_COMPLETION_INDEX` in every container).
    static func pod(for job: JSONValue, index: Int?) -> JSONValue {
        var pod = PodTemplates.pod(from: job["spec"]["template"], owner: ControllerRef.reference(to: job, .jobs),
                                   prefix: index.map { "\(job.name)-\($0)" } ?? job.name)
        pod.finalizers = pod.finalizers + [JobPods.trackingFinalizer]
        guard let index else { return pod }
        pod.annotations = pod.annotations.merging([JobPods.indexAnnotation: String(index)]) { _, new in new }
        pod.labels = pod.labels.merging([JobPods.indexAnnotation: String(index)]) { _, new in new }
        if pod["spec"]["hostname"].isNull { pod["spec"]["hostname"] = .string("\(job.name)-\(index)") }
        let env: JSONValue = ["name": "JOB_COMPLETION_INDEX",
                              "valueFrom": ["fieldRef": ["fieldPath": .string("metadata.annotations['\(JobPods.indexAnnotation)']")]]]
        for kind in ["initContainers", "containers"] {
            guard let containers = pod["spec"][kind].arrayValue else { continue }
            pod["spec"][kind] = .array(containers.map { container in
                var c = container
                c["env"] = .array((c["env"].arrayValue ?? []) + [env])
                return c
            })
        }
        return pod
    }

    // MARK: Finished Jobs

    /// After the end: leftover pods lose their finalizer, and the Job goes `ttlSecondsAfterFinished` later.
    func afterFinish(_ job: JSONValue, pods: [JSONValue], now: Date) async throws -> ReconcileResult {
        for pod in pods where pod.finalizers.contains(JobPods.trackingFinalizer) { try await removeFinalizer(pod) }
        guard let ttl = job["spec"]["ttlSecondsAfterFinished"].intValue, job.deletionTimestamp == nil else { return .done }
        let end = (job["status"]["conditions"].arrayValue ?? []).compactMap { $0["lastTransitionTime"].stringValue.flatMap(KubeTime.parse) }.max() ?? now
        let left = Double(ttl) - now.timeIntervalSince(end)
        if left > 0 { return .requeueAfter(.milliseconds(Int64(left * 1000) + 10)) }
        try await client.delete(APIResource.jobs.path(ObjectKey(job)), propagationPolicy: "Foreground", uid: job.uid)
        return .done
    }

    // MARK: Conditions

    static func setCondition(_ status: inout JSONValue, _ type: String, reason: String?, message: String?, now: Date) {
        var conditions = (status["conditions"].arrayValue ?? []).filter { $0["type"].stringValue != type }
        var condition: JSONValue = ["type": .string(type), "status": "True", "lastProbeTime": .string(KubeTime.format(now)),
                                    "lastTransitionTime": .string(KubeTime.format(now))]
        if let reason { condition["reason"] = .string(reason) }
        if let message { condition["message"] = .string(message) }
        conditions.append(condition)
        status["conditions"] = .array(conditions)
    }

    static func setSuspended(_ status: inout JSONValue, suspended: Bool, now: Date) {
        let current = (status["conditions"].arrayValue ?? []).first { $0["type"] == "Suspended" }
        if suspended, current?["status"] != "True" {
            var conditions = (status["conditions"].arrayValue ?? []).filter { $0["type"] != "Suspended" }
            conditions.append(["type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended",
                               "lastProbeTime": .string(KubeTime.format(now)), "lastTransitionTime": .string(KubeTime.format(now))])
            status["conditions"] = .array(conditions)
        } else if !suspended, current?["status"] == "True" {
            status["conditions"] = .array((status["conditions"].arrayValue ?? []).map { c in
                guard c["type"] == "Suspended" else { return c }
                return ["type": "Suspended", "status": "False", "reason": "JobResumed", "message": "Job resumed",
                        "lastProbeTime": .string(KubeTime.format(now)), "lastTransitionTime": .string(KubeTime.format(now))]
            })
        }
    }
}

import Synchronization
