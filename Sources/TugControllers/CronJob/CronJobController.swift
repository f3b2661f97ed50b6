import Foundation
public import Logging
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Starts Jobs on a cron schedule (kube-controller-manager's cronjob controller, v2): the most recent missed time
/// within `startingDeadlineSeconds` runs, named `<cronjob>-<minutes since epoch>` so a time never runs twice;
/// `concurrencyPolicy` Allow/Forbid/Replace; `suspend`; `timeZone`; status `active`, `lastScheduleTime`,
/// `lastSuccessfulTime`; finished Jobs beyond the history limits are deleted.
public final class CronJobController: Controller {
    public let name = "cronjob"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let cronJobs: Informer
    let jobs: Informer
    let events: EventRecorder
    let time: any TimeSource
    let logger: Logger
    static let scheduledAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

    public var informers: [Informer] { [cronJobs, jobs] }

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
        queue = WorkQueue(name: "cronjob", time: time)
        events = EventRecorder(client: client, component: "cronjob-controller", logger: logger)
        cronJobs = informers.informer(.cronJobs)
        jobs = informers.informer(.jobs)
        jobs.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        cronJobs.addHandler { [queue] event in queue.add(ObjectKey(event.object)) }
        jobs.addHandler { [queue] event in
            if let owner = ControllerRef.ownerKey(of: event.object, .cronJobs) { queue.add(owner) }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var cronJob = cronJobs.store.get(key) else { return .done }
        cronJob.kind = "CronJob"
        cronJob.apiVersion = "batch/v1"
        let owned = jobs.store.byIndex(Indexes.ownerUID, cronJob.uid).filter { ControllerRef.isControlled($0, by: cronJob) }
        var status = cronJob["status"].isNull ? JSONValue.emptyObject : cronJob["status"]
        var active = Self.reconcileActive(cronJob, owned: owned, status: &status, events: events)
        let now = time.now
        var result = ReconcileResult.done
        if cronJob.deletionTimestamp == nil, cronJob["spec"]["suspend"].boolValue != true {
            result = try await schedule(cronJob, key: key, status: &status, active: &active, now: now)
        }
        try await cleanUpHistory(cronJob, owned: owned)
        status["active"] = active.isEmpty ? .null : .array(active)
        if status != cronJob["status"] {
            cronJob["status"] = status
            try await client.update(APIResource.cronJobs.path(key, subresource: "status"), cronJob)
        }
        return result
    }

    /// Active references follow the Jobs: finished ones leave (recording the last success), running owned ones join.
    static func reconcileActive(_ cronJob: JSONValue, owned: [JSONValue], status: inout JSONValue, events: EventRecorder) -> [JSONValue] {
        let byUID = Dictionary(owned.map { ($0.uid, $0) }, uniquingKeysWith: { a, _ in a })
        var active: [JSONValue] = []
        for ref in status["active"].arrayValue ?? [] {
            guard let uid = ref["uid"].stringValue, let job = byUID[uid] else { continue }
            if let outcome = finishedType(job) {
                events.record(cronJob, reason: "SawCompletedJob", message: "Saw completed job: \(job.name), status: \(outcome)")
            } else {
                active.append(ref)
            }
        }
        for job in owned where finishedType(job) == nil && !active.contains(where: { $0["uid"].stringValue == job.uid }) {
            active.append(reference(job))
        }
        let lastSuccess = owned.filter { finishedType($0) == "Complete" }.compactMap { $0["status"]["completionTime"].stringValue }.max()
        if let lastSuccess, lastSuccess > (status["lastSuccessfulTime"].stringValue ?? "") { status["lastSuccessfulTime"] = .string(lastSuccess) }
        return active
    }

    static func finishedType(_ job: JSONValue) -> String? {
        (job["status"]["conditions"].arrayValue ?? []).first {
            ($0["type"] == "Complete" || $0["type"] == "Failed") && $0["status"] == "True"
        }?["type"].stringValue
    }

    static func reference(_ job: JSONValue) -> JSONValue {
        ["apiVersion": "batch/v1", "kind": "Job", "name": .string(job.name), "namespace": .string(job.namespace),
         "uid": .string(job.uid), "resourceVersion": .string(job.resourceVersion)]
    }

    /// Runs the most recent due time, if any and allowed; returns when to look again (the next time).
    func schedule(_ cronJob: JSONValue, key: ObjectKey, status: inout JSONValue, active: inout [JSONValue], now: Date) async throws -> ReconcileResult {
        let spec = cronJob["spec"]
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(spec["schedule"].stringValue ?? "")
        } catch {
            events.record(cronJob, warning: true, reason: "UnparseableSchedule", message: "unparseable schedule: \(spec["schedule"].stringValue ?? ""): \(error)")
            return .done
        }
        let zone = spec["timeZone"].stringValue.flatMap(TimeZone.init(identifier:)) ?? TimeZone.current
        if let name = spec["timeZone"].stringValue, TimeZone(identifier: name) == nil {
            events.record(cronJob, warning: true, reason: "UnknownTimeZone", message: "invalid timeZone: \"\(name)\"")
            return .done
        }
        var earliest = (status["lastScheduleTime"].stringValue ?? cronJob.creationTimestamp).flatMap(KubeTime.parse) ?? now
        if let deadline = spec["startingDeadlineSeconds"].intValue { earliest = max(earliest, now.addingTimeInterval(-Double(deadline))) }
        var due: Date?
        var cursor = earliest
        var missed = 0
        while let next = schedule.next(after: cursor, in: zone), next <= now {
            due = next
            cursor = next
            missed += 1
            if missed > 100 { break }
        }
        let wake = schedule.next(after: now, in: zone).map { ReconcileResult.requeueAfter(.milliseconds(Int64(max(0, $0.timeIntervalSince(now)) * 1000) + 100)) } ?? .done
        guard let due else { return wake }
        if missed > 100 {
            events.record(cronJob, warning: true, reason: "TooManyMissedTimes", message: "too many missed start times: \(missed). Set or decrease .spec.startingDeadlineSeconds or check clock skew")
        }
        let policy = spec["concurrencyPolicy"].stringValue ?? "Allow"
        if policy == "Forbid", !active.isEmpty {
            events.record(cronJob, reason: "JobAlreadyActive", message: "Not starting job because prior execution is running and concurrency policy is Forbid")
            return wake
        }
        if policy == "Replace" {
            for ref in active {
                guard let name = ref["name"].stringValue else { continue }
                try await client.delete(APIResource.jobs.path(ObjectKey(namespace: key.namespace, name: name)), propagationPolicy: "Background", uid: ref["uid"].stringValue)
                events.record(cronJob, reason: "SuccessfulDelete", message: "Deleted job \(name)")
            }
            active = []
        }
        let jobName = "\(cronJob.name)-\(Int64(due.timeIntervalSince1970 / 60))"
        var job: JSONValue = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": .string(jobName), "namespace": .string(key.namespace)],
                              "spec": spec["jobTemplate"]["spec"]]
        var annotations = spec["jobTemplate"]["metadata"]["annotations"].stringMap
        annotations[Self.scheduledAnnotation] = KubeTime.format(due)
        job.annotations = annotations
        job.labels = spec["jobTemplate"]["metadata"]["labels"].stringMap
        job["metadata"]["ownerReferences"] = [ControllerRef.reference(to: cronJob, .cronJobs)]
        do {
            let created = try await client.create(APIResource.jobs.collectionPath(namespace: key.namespace), job)
            events.record(cronJob, reason: "SuccessfulCreate", message: "Created job \(jobName)")
            active.append(Self.reference(created))
        } catch let error as StatusError where error.reason == .alreadyExists {
            // This time already ran (the status write after it was lost): just record it.
        }
        status["lastScheduleTime"] = .string(KubeTime.format(due))
        return wake
    }

    /// Finished Jobs beyond `successfulJobsHistoryLimit` (3) and `failedJobsHistoryLimit` (1) go, oldest first.
    func cleanUpHistory(_ cronJob: JSONValue, owned: [JSONValue]) async throws {
        for (type, field, fallback) in [("Complete", "successfulJobsHistoryLimit", Int64(3)), ("Failed", "failedJobsHistoryLimit", 1)] {
            let limit = Int(cronJob["spec"][field].intValue ?? fallback)
            let finished = owned.filter { Self.finishedType($0) == type && $0.deletionTimestamp == nil }
                .sorted { ($0["status"]["startTime"].stringValue ?? "", $0.name) < ($1["status"]["startTime"].stringValue ?? "", $1.name) }
            guard finished.count > limit else { continue }
            for job in finished.prefix(finished.count - limit) {
                try await client.delete(APIResource.jobs.path(ObjectKey(job)), propagationPolicy: "Background", uid: job.uid)
                events.record(cronJob, reason: "SuccessfulDelete", message: "Deleted job \(job.name)")
            }
        }
    }
}
