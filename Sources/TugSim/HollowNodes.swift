import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Simulated nodes for scale work (Kubernetes' kubemark "hollow nodes"): Node objects with capacity, kept Ready by
/// Lease heartbeats, whose pods are reported Running without any container. The scheduler and the controllers
/// cannot tell them from real nodes, so they can be exercised at thousands of nodes on one machine.
public final class HollowNodes: Service, Sendable {
    public struct Configuration: Sendable {
        public var count: Int
        public var prefix = "hollow-"
        public var cpu = "4"
        public var memory = "32Gi"
        public var pods = 110
        /// Nodes are spread over this many zones (`topology.kubernetes.io/zone`).
        public var zones = 10
        public var leaseDurationSeconds: Int64 = 40
        /// Concurrent requests while registering and reporting pods.
        public var concurrency = 64
        /// Concurrent lease renewals: each round must renew every lease within a quarter of the lease duration, as
        /// kubelets do side by side (nil: one per 25 nodes, at least 16).
        public var leaseConcurrency: Int?
        /// Whether bound pods are reported Running (off for pure scheduler measurements, as scheduler_perf runs
        /// without kubelets).
        public var reportPods = true

        public init(count: Int) { self.count = count }
    }

    let client: RESTClient
    /// Lease renewals go on connections of their own, so pod reporting never holds them up (a kubelet has its own).
    let leaseClient: RESTClient
    let configuration: Configuration
    let logger: Logger
    let pods: Informer?
    let time: any TimeSource
    private let names: Set<String>
    private let reported = Mutex<Set<String>>([])
    /// What the lease renewals met (`heartbeat`).
    public let leaseStats: LeaseStats
    let updates: WorkQueue<ObjectKey>

    public init(client: RESTClient, leaseClient: RESTClient? = nil, informers: InformerFactory, configuration: Configuration,
                time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.leaseClient = leaseClient ?? client
        self.configuration = configuration
        self.logger = logger
        self.time = time
        names = Set((0..<configuration.count).map { Self.name(configuration.prefix, $0) })
        leaseStats = LeaseStats(nodes: configuration.count)
        updates = WorkQueue(name: "hollow-pods", time: time)
        // The pod watch exists only to report pods; without that the fleet adds no watch of its own.
        pods = configuration.reportPods ? informers.informer(.pods) : nil
        pods?.addHandler { [names, updates] event in
            guard let node = event.object["spec"]["nodeName"].stringValue, names.contains(node) else { return }
            updates.add(ObjectKey(event.object))
        }
    }

    static func name(_ prefix: String, _ index: Int) -> String { "\(prefix)\(index)" }

    public var nodeNames: [String] { names.sorted() }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.register() }
        } catch is CancellationError {
            return
        }
        logger.info("hollow nodes registered", metadata: ["count": "\(configuration.count)"])
        // Every loop ends on SIGTERM, whether or not the server still answers (the heartbeat's sleeps and retries
        // are cancelled rather than waited out).
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.updates.runTimers() }
                if self.configuration.reportPods {
                    // Kubelets report their pods side by side: as many reporters as requests in flight.
                    for _ in 0..<self.configuration.concurrency { group.addTask { await self.reportPods() } }
                }
                group.addTask { await self.heartbeat { try await self.renewLease($0) } }
            }
        }
        updates.shutDown()
    }

    // MARK: Nodes and leases

    func node(_ index: Int) -> JSONValue {
        let name = Self.name(configuration.prefix, index)
        let now = JSONValue.string(KubeTime.format(time.now))
        let resources: JSONValue = ["cpu": .string(configuration.cpu), "memory": .string(configuration.memory), "pods": .string(String(configuration.pods))]
        let conditions: [JSONValue] = [("MemoryPressure", "False", "KubeletHasSufficientMemory"), ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                                       ("PIDPressure", "False", "KubeletHasSufficientPID"), ("Ready", "True", "KubeletReady")].map {
            ["type": .string($0.0), "status": .string($0.1), "reason": .string($0.2), "lastHeartbeatTime": now, "lastTransitionTime": now]
        }
        return ["apiVersion": "v1", "kind": "Node",
                "metadata": ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux",
                                                               "topology.kubernetes.io/zone": .string("zone-\(index % max(1, configuration.zones))"),
                                                               "tug.dev/hollow": "true"]],
                "spec": .emptyObject,
                "status": ["capacity": resources, "allocatable": resources, "conditions": .array(conditions),
                           "nodeInfo": ["kubeletVersion": "v1.32.0+tug-hollow", "operatingSystem": "linux", "architecture": "amd64"]]]
    }

    func register() async throws {
        try await forEach(0..<configuration.count) { index in
            let node = self.node(index)
            do {
                let created = try await self.client.create("/api/v1/nodes", node)
                var withStatus = created
                withStatus["status"] = node["status"]
                try await self.client.update("/api/v1/nodes/\(node.name)/status", withStatus)
            } catch let error as StatusError where error.reason == .alreadyExists {
                try await self.client.mergePatch("/api/v1/nodes/\(node.name)/status", ["status": node["status"]])
            }
            try await self.renewLease(node.name)
        }
    }

    func renewLease(_ name: String) async throws {
        let spec: JSONValue = ["holderIdentity": .string(name), "leaseDurationSeconds": .int(configuration.leaseDurationSeconds),
                               "renewTime": .string(KubeTime.formatMicro(time.now))]
        let path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        do {
            try await leaseClient.mergePatch("\(path)/\(name)", ["spec": spec])
        } catch let error as StatusError where error.reason == .notFound {
            try await leaseClient.create(path, ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                                "metadata": ["name": .string(name), "namespace": "kube-node-lease"], "spec": spec])
        }
    }

    // MARK: Pods

    /// Bound pods are reported Running and Ready at once; deleted ones are confirmed gone, as a kubelet would.
    func reportPods() async {
        while let key = await updates.get() {
            defer { updates.done(key) }
            guard let pod = pods?.store.get(key) else {
                _ = reported.withLock { $0.remove("\(key)") }
                continue
            }
            do {
                if pod.deletionTimestamp != nil {
                    do {
                        try await client.send(.DELETE, APIResource.pods.path(key), body: ["kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                                                                                          "preconditions": ["uid": .string(pod.uid)]])
                    } catch let error as StatusError where error.reason == .notFound || error.reason == .conflict {}
                } else if pod["status"]["phase"].stringValue != "Running", reported.withLock({ $0.insert("\(key)/\(pod.uid)").inserted }) {
                    let now = JSONValue.string(KubeTime.format(time.now))
                    let conditions: [JSONValue] = ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map {
                        ["type": .string($0), "status": "True", "lastTransitionTime": now]
                    }
                    let containers: [JSONValue] = (pod["spec"]["containers"].arrayValue ?? []).map { c in
                        ["name": c["name"], "image": c["image"], "imageID": "", "containerID": .string("hollow://\(pod.uid)/\(c["name"].stringValue ?? "")"),
                         "ready": true, "started": true, "restartCount": 0, "state": ["running": ["startedAt": now]]]
                    }
                    try await client.mergePatch(APIResource.pods.path(key, subresource: "status"),
                                                ["status": ["phase": "Running", "conditions": .array(conditions), "startTime": now,
                                                            "hostIP": "192.0.2.1", "podIP": "192.0.2.1", "containerStatuses": .array(containers)]])
                }
                updates.forget(key)
            } catch {
                updates.addRateLimited(key)
            }
        }
    }

    /// Runs `body` for every element with at most `concurrency` (else `configuration.concurrency`) at once;
    /// rethrows the first error.
    func forEach<C: Collection & Sendable>(_ items: C, concurrency: Int? = nil, _ body: @escaping @Sendable (C.Element) async throws -> Void) async throws
    where C.Element: Sendable {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var iterator = items.makeIterator()
            for _ in 0..<(concurrency ?? configuration.concurrency) {
                guard let item = iterator.next() else { break }
                group.addTask { try await body(item) }
            }
            while try await group.next() != nil {
                if let item = iterator.next() { group.addTask { try await body(item) } }
            }
        }
    }
}
