import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import Synchronization
import TugAPIMachinery
import TugClient
import TugControllerRuntime
import TugScheduler
import TugSim

/// `tug bench scheduler`: hollow nodes (in this process) against a fresh `tug server`, then
/// 1. a Deployment of `--replicas` on `--nodes`: create → all pods bound, through the server's own controllers and
///    scheduler;
/// 2. scheduling throughput at `--throughput-nodes`: pods created while no scheduler runs (`--disable-scheduler`),
///    then a scheduler started here binds them; pods/s between the first and the last binding, for plain pods and
///    for pods with required anti-affinity (one per node).
struct SchedulerBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "scheduler", abstract: "Benchmark scheduling on hollow nodes.")

    @Option(help: "Nodes for the Deployment figure.")
    var nodes = 100

    @Option(help: "Replicas of the Deployment.")
    var replicas = 1000

    @Option(help: "Nodes for the throughput figures.")
    var throughputNodes = 5000

    @Option(help: "Plain pods for the throughput figure.")
    var pods = 3000

    @Option(help: "Pods with required anti-affinity (at most one per node) for the throughput figure.")
    var antiAffinityPods = 1000

    func execute() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        print("command: tug bench scheduler --nodes \(nodes) --replicas \(replicas) --throughput-nodes \(throughputNodes) --pods \(pods) --anti-affinity-pods \(antiAffinityPods)")
        let deployment = try await withCluster(nodes: nodes, scheduler: true) { client in
            try await self.deploymentFigure(client)
        }
        print(String(format: "deployment of %d replicas on %d nodes: all bound in %.2f s", replicas, nodes, deployment.seconds))
        try await withCluster(nodes: throughputNodes, scheduler: false) { client in
            let plain = try await self.throughput(client, namespace: "bench-plain", count: self.pods, antiAffinity: false)
            print(String(format: "scheduling throughput, %d plain pods on %d nodes: %.0f pods/s", self.pods, self.throughputNodes, plain))
            let anti = try await self.throughput(client, namespace: "bench-anti", count: self.antiAffinityPods, antiAffinity: true)
            print(String(format: "scheduling throughput, %d pods with required anti-affinity on %d nodes: %.0f pods/s", self.antiAffinityPods, self.throughputNodes, anti))
        }
    }

    /// A fresh server with `count` hollow nodes registered (and kept Ready) from this process.
    func withCluster<T: Sendable>(nodes count: Int, scheduler: Bool, _ body: @escaping @Sendable (RESTClient) async throws -> T) async throws -> T {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-sched-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let port = try FreePort.find()
        let (server, client, _) = try await BenchServer.start(dataDir: dataDir, port: port,
                                                             arguments: ["--disable-agent"] + (scheduler ? [] : ["--disable-scheduler"]), maxConnections: 128)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let informers = InformerFactory(client: client, logger: Logger(label: "bench.informers"))
        var configuration = HollowNodes.Configuration(count: count)
        configuration.reportPods = scheduler
        let hollow = HollowNodes(client: client, informers: informers, configuration: configuration, logger: Logger(label: "bench.hollow"))
        let result = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await informers.run(); return nil }
            group.addTask { try await hollow.run(); return nil }
            group.addTask {
                try await Self.waitFor("\(count) nodes", timeout: .seconds(300)) {
                    let list = try await client.send(.GET, "/api/v1/nodes")
                    return (list["items"].arrayValue ?? []).filter { $0["status"]["conditions"].arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } == true }.count >= count
                }
                return try await body(client)
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
            }
            throw CommandFailure("the benchmark ended early")
        }
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        try? await client.shutdown()
        return result
    }

    static func waitFor(_ what: String, timeout: Duration, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CommandFailure("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func pod(_ name: String, antiAffinity: Bool) -> JSONValue {
        var spec: JSONValue = ["containers": [["name": "c", "image": "busybox", "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]]]]]
        if antiAffinity {
            spec["affinity"] = ["podAntiAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
                ["labelSelector": ["matchLabels": ["app": "spread"]], "topologyKey": "kubernetes.io/hostname"]]]]
        }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": ["app": antiAffinity ? "spread" : "plain"]], "spec": spec]
    }

    /// Watches `namespace` until `count` pods are bound; returns the instants of the bindings.
    static func bindings(_ client: RESTClient, namespace: String, count: Int, timeout: Duration) async throws -> [ContinuousClock.Instant] {
        let log = BindingLog()
        return try await withThrowingTaskGroup(of: [ContinuousClock.Instant]?.self) { group in
            group.addTask {
                await Reflector(client: client, path: "/api/v1/namespaces/\(namespace)/pods", logger: Logger(label: "bench")).run { event in
                    let objects = event.current
                    let now = ContinuousClock.now
                    let reached = log.seen.withLock { seen -> Bool in
                        for pod in objects where !(pod["spec"]["nodeName"].stringValue ?? "").isEmpty && seen[pod.uid] == nil { seen[pod.uid] = now }
                        return seen.count >= count
                    }
                    if reached { log.done.withLock { $0?.resume(); $0 = nil } }
                }
                return nil
            }
            group.addTask {
                await withCheckedContinuation { continuation in
                    let already = log.seen.withLock { $0.count >= count }
                    if already { continuation.resume() } else { log.done.withLock { $0 = continuation } }
                }
                return log.seen.withLock { Array($0.values) }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw CommandFailure("timed out: \(log.seen.withLock { $0.count }) of \(count) pods bound in \(namespace)")
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let instants = next { return instants }
            }
            throw CommandFailure("binding watch ended")
        }
    }

    func deploymentFigure(_ client: RESTClient) async throws -> Duration {
        let template = Self.pod("x", antiAffinity: false)
        let deployment: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "bench"],
                                     "spec": ["replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": "plain"]],
                                              "template": ["metadata": ["labels": ["app": "plain"]], "spec": template["spec"]]]]
        let started = ContinuousClock.now
        async let bound = Self.bindings(client, namespace: "default", count: replicas, timeout: .seconds(300))
        try await client.create("/apis/apps/v1/namespaces/default/deployments", deployment)
        let instants = try await bound
        let sorted = instants.sorted()
        if !sorted.isEmpty {
            let at = { (fraction: Double) in (sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] - started).seconds }
            print(String(format: "  bound after: first %.2f s, 25%% %.2f s, 50%% %.2f s, 75%% %.2f s", at(0), at(0.25), at(0.5), at(0.75)))
        }
        return (instants.max() ?? started) - started
    }

    func throughput(_ client: RESTClient, namespace: String, count: Int, antiAffinity: Bool) async throws -> Double {
        try await client.create("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        let names = (0..<count).map { "p-\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: names.count, by: max(1, names.count / 32)) {
                let slice = names[chunk..<min(names.count, chunk + max(1, names.count / 32))]
                group.addTask {
                    for name in slice { try await client.create("/api/v1/namespaces/\(namespace)/pods", Self.pod(name, antiAffinity: antiAffinity)) }
                }
            }
            try await group.waitForAll()
        }
        // Now a scheduler, in this process, binds them all.
        let informers = InformerFactory(client: client, logger: Logger(label: "bench.scheduler.informers"))
        let scheduler = Scheduler(client: client, informers: informers, logger: Logger(label: "bench.scheduler"))
        let instants = try await withThrowingTaskGroup(of: [ContinuousClock.Instant]?.self) { group in
            group.addTask { try await informers.run(); return nil }
            group.addTask { try await scheduler.run(); return nil }
            group.addTask { try await Self.bindings(client, namespace: namespace, count: count, timeout: .seconds(600)) }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let instants = next { return instants }
            }
            throw CommandFailure("scheduler ended early")
        }
        guard let first = instants.min(), let last = instants.max(), last > first else { return 0 }
        return Double(count - 1) / (last - first).seconds
    }
}

/// When each pod was first seen bound, and who waits for the last one.
final class BindingLog: Sendable {
    let seen = Mutex<[String: ContinuousClock.Instant]>([:])
    let done = Mutex<CheckedContinuation<Void, Never>?>(nil)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
