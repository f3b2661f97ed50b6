import Foundation
import Logging
import Testing
import TugAPIMachinery
@testable import TugNodeAgent
@testable import TugRuntime

/// The pod worker's state machine against the fake runtime: no runc, no network.
@Suite struct PodSyncerTests {
    final class Harness {
        let runtime = FakeRuntime()
        let writer = RecordingWriter()
        let root: String
        let syncer: PodSyncer
        let probes: ProbeManager
        let events = RecordingEvents()
        var pod: JSONValue

        init(_ pod: JSONValue, images: FakeImages = FakeImages()) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("tug-agent-\(UUID().uuidString)").path
            probes = ProbeManager(runtime: runtime) { _ in }
            let cluster = FakeCluster(objects: ["ConfigMap/cfg": ["k": Array("v".utf8)]])
            syncer = PodSyncer(nodeName: "n1", hostIP: "192.0.2.1", podsRoot: root, runtime: runtime, images: images,
                               volumes: VolumeManager(podsRoot: root, cluster: cluster), cluster: cluster, writer: writer,
                               backoff: RestartBackoff(), probes: probes, memory: PodMemory(),
                               sandboxes: SandboxConfigBuilder(clusterDNS: ["10.43.0.10"], clusterDomain: "cluster.local", hostResolvConf: "nameserver 1.1.1.1\n"),
                               security: ContainerSecurity(seccompDirectory: "\(root)/seccomp"),
                               events: events, logger: Logger(label: "test"))
            self.pod = pod
        }

        /// Syncs and feeds the reported status back into the pod, as the API round trip would.
        @discardableResult
        func sync() async -> Duration? {
            let requeue = await syncer.sync(pod)
            if writer.last != .null { pod["status"] = writer.last }
            return requeue
        }

        func status(_ name: String) -> JSONValue {
            (pod["status"]["containerStatuses"].arrayValue ?? []).first { $0["name"].stringValue == name } ?? .null
        }

        func cleanup() async {
            await probes.shutdown()
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func pod(_ restartPolicy: String = "Always", containers: [JSONValue] = [["name": "app", "image": "busybox"]], initContainers: [JSONValue] = []) -> JSONValue {
        var spec: JSONValue = ["restartPolicy": .string(restartPolicy), "containers": .array(containers), "terminationGracePeriodSeconds": 1]
        if !initContainers.isEmpty { spec["initContainers"] = .array(initContainers) }
        return ["metadata": ["name": "p", "namespace": "default", "uid": "u1"], "spec": spec,
                "status": ["phase": "Pending", "conditions": [["type": "PodScheduled", "status": "True"]]]]
    }

    @Test func startsSandboxAndContainersAndReportsRunning() async throws {
        let h = try Harness(Self.pod())
        await h.sync()
        #expect(h.runtime.startedNames == ["app"])
        #expect(h.pod["status"]["phase"] == "Running")
        #expect(h.pod["status"]["podIP"] == "10.42.0.2")
        #expect(h.status("app")["ready"] == true && h.status("app")["state"]["running"] != .null)
        #expect(h.events.reasons == ["Pulled", "Created", "Started"])
        let types = (h.pod["status"]["conditions"].arrayValue ?? []).compactMap { $0["type"].stringValue }
        #expect(types == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"])
        await h.cleanup()
    }

    @Test func restartsAtOnceThenBacksOff() async throws {
        let h = try Harness(Self.pod())
        await h.sync()
        h.runtime.exit(named: "app", code: 1)
        await h.sync()
        #expect(h.runtime.startedNames == ["app", "app"], "the first restart is immediate")
        #expect(h.status("app")["restartCount"] == 1)
        #expect(h.status("app")["lastState"]["terminated"]["exitCode"] == 1)
        h.runtime.exit(named: "app", code: 1)
        let requeue = await h.sync()
        #expect(h.runtime.startedNames.count == 2, "the second restart waits")
        #expect(h.status("app")["state"]["waiting"]["reason"] == "CrashLoopBackOff")
        #expect(h.events.recorded.withLock { $0.last?.reason == "BackOff" && $0.last?.warning == true })
        #expect(h.status("app")["state"]["waiting"]["message"].stringValue?.hasPrefix("back-off 10s restarting failed container=app pod=p_default(u1)") == true)
        #expect(requeue.map { $0 > .seconds(9) && $0 <= .seconds(11) } == true)
        #expect(h.pod["status"]["phase"] == "Running")
        await h.cleanup()
    }

    @Test func neverRestartsAndFinishes() async throws {
        let h = try Harness(Self.pod("Never"))
        await h.sync()
        h.runtime.exit(named: "app", code: 0)
        await h.sync()
        #expect(h.pod["status"]["phase"] == "Succeeded")
        #expect(h.status("app")["state"]["terminated"]["reason"] == "Completed")
        await h.sync()
        #expect(try await h.runtime.sandboxes().allSatisfy { $0.state == .notReady }, "a finished pod gives back its sandbox")
        #expect(h.runtime.startedNames == ["app"])
        let failing = try Harness(Self.pod("OnFailure"))
        await failing.sync()
        failing.runtime.exit(named: "app", code: 2)
        await failing.sync()
        #expect(failing.runtime.startedNames.count == 2, "OnFailure restarts a failed container")
        await h.cleanup()
        await failing.cleanup()
    }

    @Test func initContainersRunFirstInOrder() async throws {
        let h = try Harness(Self.pod(initContainers: [["name": "one", "image": "busybox"], ["name": "two", "image": "busybox"]]))
        await h.sync()
        #expect(h.runtime.startedNames == ["one"])
        #expect(h.pod["status"]["phase"] == "Pending")
        #expect(h.status("app")["state"]["waiting"]["reason"] == "PodInitializing")
        h.runtime.exit(named: "one", code: 0)
        await h.sync()
        #expect(h.runtime.startedNames == ["one", "two"])
        h.runtime.exit(named: "two", code: 0)
        await h.sync()
        #expect(h.runtime.startedNames == ["one", "two", "app"])
        #expect(h.pod["status"]["phase"] == "Running")
        #expect((h.pod["status"]["conditions"].arrayValue ?? []).first { $0["type"] == "Initialized" }?["status"] == "True")
        await h.cleanup()
    }

    @Test func imagePullFailuresBackOff() async throws {
        let h = try Harness(Self.pod(containers: [["name": "app", "image": "nope"]]), images: FakeImages(missing: ["nope"]))
        await h.sync()
        #expect(h.status("app")["state"]["waiting"]["reason"] == "ErrImagePull")
        await h.sync()
        #expect(h.status("app")["state"]["waiting"]["reason"] == "ImagePullBackOff")
        #expect(h.events.reasons == ["Pulling", "Failed", "Failed", "BackOff"])
        #expect(h.pod["status"]["phase"] == "Pending")
        await h.cleanup()
    }

    @Test func missingConfigIsACreateContainerConfigError() async throws {
        let container: JSONValue = ["name": "app", "image": "busybox", "env": [["name": "X", "valueFrom": ["configMapKeyRef": ["name": "absent", "key": "k"]]]]]
        let h = try Harness(Self.pod(containers: [container]))
        await h.sync()
        #expect(h.status("app")["state"]["waiting"]["reason"] == "CreateContainerConfigError")
        #expect(h.status("app")["state"]["waiting"]["message"] == "configmap \"absent\" not found")
        await h.cleanup()
    }

    @Test func deletionStopsEverythingAndDeletesThePod() async throws {
        let h = try Harness(Self.pod())
        await h.sync()
        h.pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        await h.sync()
        let sandboxes = try await h.runtime.sandboxes(), containers = try await h.runtime.containers()
        #expect(sandboxes.isEmpty && containers.isEmpty)
        #expect(h.writer.deleted.withLock { $0 } == ["p"])
        await h.cleanup()
    }
}
