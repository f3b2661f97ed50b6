import Foundation
import Logging
import Testing
import TugAPIMachinery
import TugClient
import TugControllerRuntime
@testable import TugControllers
import TugTestSupport

/// Controllers against the real API server in process, on a manual clock: deadlines, schedules and back-off are
/// reached by advancing time, never by waiting for it.
@Suite(.serialized) struct ControllerIntegrationTests {
    static let logger = Logger(label: "test.controllers")

    @Test func aReplicaSetKeepsItsPodsAndTheCollectorTakesThemWithIt() async throws {
        try await TestCluster.run { client in
            let informers = InformerFactory(client: client, logger: Self.logger)
            let replicaSets = ControllerRunner(ReplicaSetController(client: client, informers: informers, logger: Self.logger), logger: Self.logger)
            let collector = GarbageCollector(client: client, informers: informers, logger: Self.logger)
            let rs: JSONValue = ["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web"],
                                 "spec": ["replicas": 3, "selector": ["matchLabels": ["app": "web"]],
                                          "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "busybox"]]]]]]
            try await TestCluster.with([informers, replicaSets, CollectorService(collector)]) {
                try await client.create("/apis/apps/v1/namespaces/default/replicasets", rs)
                let pods = "/api/v1/namespaces/default/pods"
                try await eventually("3 pods") { try await client.items(pods).count == 3 }
                let victim = try await client.items(pods)[0]
                try await client.delete("\(pods)/\(victim.name)")
                try await eventually("a replacement") {
                    let names = try await client.items(pods).map(\.name)
                    return names.count == 3 && !names.contains(victim.name)
                }
                try await eventually("status.replicas = 3") {
                    try await client.send(.GET, "/apis/apps/v1/namespaces/default/replicasets/web")["status"]["replicas"] == 3
                }
                // Background deletion: the collector removes the pods after their owner.
                try await client.delete("/apis/apps/v1/namespaces/default/replicasets/web", propagationPolicy: "Background")
                try await eventually("pods collected") { try await client.items(pods).isEmpty }
            }
        }
    }

    @Test func aJobPastItsActiveDeadlineFails() async throws {
        try await TestCluster.run { client in
            let time = ManualTime(now: Date())
            let informers = InformerFactory(client: client, logger: Self.logger)
            let jobs = ControllerRunner(JobController(client: client, informers: informers, time: time, logger: Self.logger), logger: Self.logger)
            let job: JSONValue = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "slow"],
                                  "spec": ["activeDeadlineSeconds": 30, "template": ["spec": ["restartPolicy": "Never", "containers": [["name": "c", "image": "busybox"]]]]]]
            try await TestCluster.with([informers, jobs]) {
                try await client.create("/apis/batch/v1/namespaces/default/jobs", job)
                let pods = "/api/v1/namespaces/default/pods"
                try await eventually("the job's pod") { try await client.items(pods).count == 1 }
                let pod = try await client.items(pods)[0]
                #expect(pod.finalizers == ["batch.kubernetes.io/job-tracking"])
                try await advance(time, by: .seconds(5), until: "Failed: DeadlineExceeded") {
                    let conditions = try await client.send(.GET, "/apis/batch/v1/namespaces/default/jobs/slow")["status"]["conditions"].arrayValue ?? []
                    return conditions.contains { $0["type"] == "Failed" && $0["reason"] == "DeadlineExceeded" }
                }
                // The running pod was deleted, its tracking finalizer removed, and it counted as failed.
                try await eventually("the pod gone") { try await client.items(pods).isEmpty }
                try await eventually("failed: 1") { try await client.send(.GET, "/apis/batch/v1/namespaces/default/jobs/slow")["status"]["failed"] == 1 }
            }
        }
    }

    @Test func aStalledRolloutTimesOut() async throws {
        try await TestCluster.run { client in
            let time = ManualTime(now: Date())
            let informers = InformerFactory(client: client, logger: Self.logger)
            let deployments = ControllerRunner(DeploymentController(client: client, informers: informers, time: time, logger: Self.logger), logger: Self.logger)
            let replicaSets = ControllerRunner(ReplicaSetController(client: client, informers: informers, time: time, logger: Self.logger), logger: Self.logger)
            let d: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "stuck"],
                                "spec": ["replicas": 1, "progressDeadlineSeconds": 60, "selector": ["matchLabels": ["app": "stuck"]],
                                         "template": ["metadata": ["labels": ["app": "stuck"]], "spec": ["containers": [["name": "c", "image": "busybox"]]]]]]
            let path = "/apis/apps/v1/namespaces/default/deployments/stuck"
            try await TestCluster.with([informers, deployments, replicaSets]) {
                try await client.create("/apis/apps/v1/namespaces/default/deployments", d)
                // No node runs the pod, so it never becomes ready: progress stops.
                try await eventually("progressing") {
                    DeploymentStatus.condition(try await client.send(.GET, path)["status"], "Progressing")?["status"] == "True"
                }
                try await advance(time, by: .seconds(10), until: "ProgressDeadlineExceeded") {
                    DeploymentStatus.condition(try await client.send(.GET, path)["status"], "Progressing")?["reason"] == "ProgressDeadlineExceeded"
                }
                let available = DeploymentStatus.condition(try await client.send(.GET, path)["status"], "Available")
                #expect(available?["reason"] == "MinimumReplicasUnavailable")
            }
        }
    }

    @Test func aCronJobRunsOnItsSchedule() async throws {
        try await TestCluster.run { client in
            // The API stamps creationTimestamp with the real clock (whole seconds), and the controller counts due
            // times from it. The manual clock starts at the real time read before the create, so the first */5 mark
            // after the stored timestamp is a whole second later than the clock's start: no run is due yet.
            let time = ManualTime(now: Date())
            let informers = InformerFactory(client: client, logger: Self.logger)
            let cronJobs = ControllerRunner(CronJobController(client: client, informers: informers, time: time, logger: Self.logger), logger: Self.logger)
            let cj: JSONValue = ["apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": "tick"],
                                 "spec": ["schedule": "*/5 * * * *", "timeZone": "UTC",
                                          "jobTemplate": ["spec": ["template": ["spec": ["restartPolicy": "Never", "containers": [["name": "c", "image": "busybox"]]]]]]]]
            try await TestCluster.with([informers, cronJobs]) {
                let created = try await client.create("/apis/batch/v1/namespaces/default/cronjobs", cj)
                let stamp = try #require(created.creationTimestamp.flatMap(KubeTime.parse))
                let mark = Date(timeIntervalSince1970: ((stamp.timeIntervalSince1970 / 300).rounded(.down) + 1) * 300)
                let jobs = "/apis/batch/v1/namespaces/default/jobs"
                try await eventually("the next run armed") { time.sleeperCount > 0 }
                #expect(try await client.items(jobs).isEmpty)
                let expected = "tick-\(Int64(mark.timeIntervalSince1970 / 60))"
                // Up to the mark (and a little after, when the controller looks again) in 20 s steps.
                try await advance(time, by: .seconds(20), until: "the job of the */5 mark", timeout: .seconds(20)) {
                    !(try await client.items(jobs).isEmpty)
                }
                #expect(try await client.items(jobs).map(\.name) == [expected])
                let job = try await client.send(.GET, "\(jobs)/\(expected)")
                #expect(job.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] == KubeTime.format(mark))
                #expect(ControllerRef.of(job)?["kind"] == "CronJob")
            }
        }
    }
}

/// The collector discovers resources in `run`, so it is run as a service itself.
struct CollectorService: RunnableService, Sendable {
    let collector: GarbageCollector
    init(_ collector: GarbageCollector) { self.collector = collector }
    func runService() async throws { try await collector.run() }
}

@Suite struct SharedReadsTests {
    /// A component reading shared caches under its own identity: the factory refuses to start when that identity's
    /// role does not allow the reads, and starts when it does.
    @Test func readersMustBeAllowedWhatTheyRead() async throws {
        try await TestCluster.run { client in
            let refusing = InformerFactory(client: client, readCheck: { reader, resource in
                resource.resource == "pods" ? "\(reader) may not list \(resource): its role does not allow it" : nil
            }, logger: ControllerIntegrationTests.logger)
            _ = refusing.informer(.nodes, readBy: "system:kube-scheduler")
            _ = refusing.informer(.pods, readBy: "system:kube-scheduler")
            await #expect { try await refusing.run() } throws: { "\($0)" == "system:kube-scheduler may not list pods: its role does not allow it" }
            let allowing = InformerFactory(client: client, readCheck: { _, _ in nil }, logger: ControllerIntegrationTests.logger)
            let nodes = allowing.informer(.nodes, readBy: "system:kube-scheduler")
            try await TestCluster.with([allowing]) {
                await nodes.waitForSync()
            }
        }
    }
}
