import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import TugAPIMachinery
import TugAPIServer
import TugClient
import TugControllerRuntime
import TugSim

/// `tug bench scale`: clusterloader2's load test on one machine. A fresh `tug server` (release build, embedded store,
/// its own scheduler and controllers), `--nodes` hollow nodes in this process that authenticate as nodes (so API
/// Priority and Fairness treats them as kubelets) and renew their leases every 10 s, then `--pods` pods through
/// `--deployments` Deployments. Reports pod startup latency (first seen → Running reported by its hollow node),
/// scheduling throughput, API call latency per verb and resource from the server's histogram, the cost of LISTs,
/// the server's memory and CPU, and every node that stopped being Ready.
struct ScaleBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "scale", abstract: "Load-test a server with hollow nodes and Deployments.")

    @Option(help: "Hollow nodes.")
    var nodes = 5000

    @Option(help: "Pods, spread over the Deployments.")
    var pods = 150_000

    @Option(help: "Deployments.")
    var deployments = 30

    @Option(help: "Seconds to wait for every pod to be Running.")
    var timeout = 1200

    @Option(help: "Seconds of soak once every pod is Running (0: none): watchers stay open and pods are deleted for their ReplicaSets to replace.")
    var duration = 0

    @Option(help: "Watches held open during the soak, each on one Deployment's pods.")
    var watchers = 2000

    @Option(help: "Pods deleted per second during the soak.")
    var churn = 10

    @Option(help: "The server's --min-request-timeout: watches end, and are re-opened, after one to two of these seconds (kube's default 1800; lower it to see a soak's re-opens sooner).")
    var minRequestTimeout = 1800

    func execute() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        guard nodes > 0, pods > 0, deployments > 0 else { throw CommandFailure("--nodes, --pods and --deployments must be positive") }
        guard duration >= 0, watchers >= 0, churn >= 0 else { throw CommandFailure("--duration, --watchers and --churn cannot be negative") }
        guard minRequestTimeout > 0 else { throw CommandFailure("--min-request-timeout must be positive") }
        var soak = duration > 0 ? " --duration \(duration) --watchers \(watchers) --churn \(churn)" : ""
        if minRequestTimeout != 1800 { soak += " --min-request-timeout \(minRequestTimeout)" }
        Self.say("command: tug bench scale --nodes \(nodes) --pods \(pods) --deployments \(deployments)\(soak)")
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-scale-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        BenchChildren.removeOnSignal(dataDir)
        let port = try FreePort.find()
        let (server, client, _) = try await BenchServer.start(dataDir: dataDir, port: port, arguments: ["--disable-agent", "--min-request-timeout", String(minRequestTimeout)],
                                                             maxConnections: 64)
        let adminKubeconfig = try Kubeconfig.load(path: "\(dataDir)/admin.kubeconfig")
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let pid = server.processIdentifier
        let cpuAtStart = ProcessFigures.cpuSeconds(pid: pid)
        // The simulated nodes share one certificate in system:nodes (classified as nodes by flow control) whose user
        // is not one node: the Node authorizer leaves it to RBAC, where the node role is bound to it for the bench.
        let caPEM = try String(contentsOfFile: "\(dataDir)/server/tls/ca.crt", encoding: .utf8)
        let ca = try ClusterCA(certificatePEM: caPEM, keyPEM: try String(contentsOfFile: "\(dataDir)/server/tls/ca.key", encoding: .utf8))
        let hollowUser = "tug-bench-hollow-nodes"
        let nodeCertificate = try ca.issue(commonName: hollowUser, organizations: ["system:nodes"], usage: .client)
        _ = try await client.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": ["name": .string(hollowUser)],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node"],
            "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": .string(hollowUser)]],
        ])
        let nodeKubeconfig = Kubeconfig(server: "https://127.0.0.1:\(port)", caPEM: caPEM, token: nil,
                                        clientCertificatePEM: nodeCertificate.certificatePEM, clientKeyPEM: nodeCertificate.keyPEM)
        let nodeClient = try RESTClient(kubeconfig: nodeKubeconfig, maxConnections: 64)
        // The binding is compiled into the authorizer moments after it is written.
        let bound = ContinuousClock.now + .seconds(10)
        while try await nodeClient.request(.GET, "/api/v1/nodes?limit=1").status == 403, ContinuousClock.now < bound {
            try await Task.sleep(for: .milliseconds(20))
        }
        let timeline = ScaleTimeline()
        let informers = InformerFactory(client: nodeClient, logger: Logger(label: "bench.hollow.informers"))
        var hollowConfiguration = HollowNodes.Configuration(count: nodes)
        // The kubelet's defaults: a 40 s lease renewed every 10 s.
        hollowConfiguration.leaseDurationSeconds = 40
        // Renewals on connections of their own (kubelets each have theirs): sharing the reporters' pool, 5,000 leases
        // were renewed every 85 s on average and 179 nodes went Unknown.
        // One in flight per ten nodes (kubelets renew independently): at one per 25, renewals taking 1.1 s in the
        // soak stretched each round to 30 s, close to the 40 s after which a node is lost; the server saw 180
        // renewals a second instead of 500.
        let leaseConcurrency = max(16, nodes / 10)
        hollowConfiguration.leaseConcurrency = leaseConcurrency
        let leaseClient = try RESTClient(kubeconfig: nodeKubeconfig, maxConnections: leaseConcurrency)
        let hollow = HollowNodes(client: nodeClient, leaseClient: leaseClient, informers: informers, configuration: hollowConfiguration,
                                 logger: Logger(label: "bench.hollow"))
        let nodeCount = nodes
        let podCount = pods

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await informers.run() }
            group.addTask { try await hollow.run() }
            group.addTask { await Self.watchNodes(client, timeline: timeline) }
            group.addTask { await Self.watchPods(client, timeline: timeline) }
            defer { group.cancelAll() }

            let registering = ContinuousClock.now
            try await SchedulerBench.waitFor("\(nodeCount) Ready nodes", timeout: .seconds(600)) {
                let list = try await client.send(.GET, "/api/v1/nodes?labelSelector=tug.dev/hollow%3Dtrue")
                return (list["items"].arrayValue ?? []).filter(Self.isReady).count >= nodeCount
            }
            timeline.notReady.withLock { $0.removeAll() }
            Self.say(String(format: "nodes: %d Ready after %.1f s", nodeCount, (ContinuousClock.now - registering).seconds))

            let started = ContinuousClock.now
            try await self.createDeployments(client)
            let progress = Task {
                while (try? await Task.sleep(for: .seconds(15))) != nil {
                    let c = timeline.counts.withLock { $0 }
                    Self.say(String(format: "  t=%.0f s: %d pods seen, %d bound, %d Running; server RSS %.0f MiB; %d nodes ever NotReady; leases: %@",
                                 (ContinuousClock.now - started).seconds, c.seen, c.bound, c.running, PodBench.memory(pid: pid).rss,
                                 timeline.notReady.withLock { $0.count }, hollow.leaseStats.snapshot().description))
                }
            }
            defer { progress.cancel() }
            var allRunning = true
            do {
                try await SchedulerBench.waitFor("\(podCount) Running pods", timeout: .seconds(Int64(self.timeout))) {
                    timeline.counts.withLock { $0.running } >= podCount
                }
            } catch let failure as CommandFailure {
                // The figures of what did run are still worth having: report them, marked.
                Self.say("TIMED OUT after \(self.timeout) s: \(timeline.counts.withLock { $0.running }) of \(podCount) pods Running (\(failure))")
                allRunning = false
            }
            progress.cancel()
            let elapsed = ContinuousClock.now - started
            let cpu = ProcessFigures.cpuSeconds(pid: pid) - cpuAtStart
            self.report(timeline: timeline, started: started, elapsed: elapsed)
            try await self.listCosts(client)
            let body = try await client.request(.GET, "/metrics").body
            let metrics = body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""
            Self.printLatency(metrics)
            if let storage = StorageFigures(metrics: metrics) { Self.say("store during the load: \(storage.description)") }
            let memory = PodBench.memory(pid: pid)
            Self.say("server: \(memory) with \(nodeCount) nodes and \(podCount) pods; \(ProcessFigures.openDescriptors(pid: pid)) descriptors")
            if let heap = HeapFigures(metrics: metrics) { Self.say("server heap (jemalloc): \(heap.description)") }
            Self.say(String(format: "server CPU: %.0f s over the %.0f s of the load (%.2f cores)", cpu, elapsed.seconds, cpu / max(0.001, elapsed.seconds)))
            if self.duration > 0 {
                if allRunning {
                    let watchClient = try RESTClient(kubeconfig: adminKubeconfig, maxConnections: max(1, self.watchers))
                    let soak = ScaleSoak(client: client, watchClient: watchClient, pid: pid, timeline: timeline, leases: hollow.leaseStats,
                                         duration: .seconds(self.duration),
                                         watchers: self.watchers, churn: self.churn, deployments: self.deployments)
                    do { try await soak.run() } catch {
                        try? await watchClient.shutdown()
                        throw error
                    }
                    try? await watchClient.shutdown()
                } else {
                    Self.say("soak skipped: not every pod was Running")
                }
            }
            let lost = timeline.notReady.withLock { $0 }
            Self.say("nodes that stopped being Ready: \(lost.count)\(lost.isEmpty ? "" : " (" + lost.sorted().prefix(5).joined(separator: ", ") + ")")")
            Self.say("lease renewals: \(hollow.leaseStats.snapshot())")
        }
        // With the hollow nodes still renewing their leases, as a server under load is stopped.
        let stopping = ContinuousClock.now
        kill(pid, SIGTERM)
        server.waitUntilExit()
        Self.say(String(format: "server stopped %.1f s after SIGTERM, exit status %d", (ContinuousClock.now - stopping).seconds,
                        server.terminationStatus))
        try? await nodeClient.shutdown()
        try? await leaseClient.shutdown()
        try? await client.shutdown()
    }

    /// One line to standard output, unbuffered, so progress shows as it happens also when the output is a file.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func isReady(_ node: JSONValue) -> Bool {
        node["status"]["conditions"].arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } == true
    }

    /// Records every hollow node seen not Ready (or tainted unreachable) after registration.
    static func watchNodes(_ client: RESTClient, timeline: ScaleTimeline) async {
        await Reflector(client: client, path: "/api/v1/nodes", logger: Logger(label: "bench.nodes")).run { event in
            let objects = event.current
            for node in objects where node.labels["tug.dev/hollow"] == "true" {
                let tainted = (node["spec"]["taints"].arrayValue ?? []).contains { $0["key"].stringValue?.hasPrefix("node.kubernetes.io/") == true }
                if !isReady(node) || tainted { _ = timeline.notReady.withLock { $0.insert(node.name) } }
            }
        }
    }

    static func watchPods(_ client: RESTClient, timeline: ScaleTimeline) async {
        await Reflector(client: client, path: "/api/v1/namespaces/bench-scale/pods", logger: Logger(label: "bench.pods")).run { event in
            let objects = event.current
            let now = ContinuousClock.now
            for pod in objects {
                timeline.observe(uid: pod.uid, bound: !(pod["spec"]["nodeName"].stringValue ?? "").isEmpty,
                                 running: pod["status"]["phase"] == "Running", at: now)
            }
        }
    }

    func createDeployments(_ client: RESTClient) async throws {
        try await client.create("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bench-scale"]])
        for i in 0..<deployments {
            let replicas = pods / deployments + (i < pods % deployments ? 1 : 0)
            let labels: JSONValue = ["app": .string("load-\(i)")]
            try await client.create("/apis/apps/v1/namespaces/bench-scale/deployments", [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string("load-\(i)")],
                "spec": ["replicas": .int(Int64(replicas)), "selector": ["matchLabels": labels],
                         "template": ["metadata": ["labels": labels], "spec": ["containers": [[
                             "name": "c", "image": "registry.k8s.io/pause:3.9",
                             "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]]]]]]],
            ])
        }
    }

    func report(timeline: ScaleTimeline, started: ContinuousClock.Instant, elapsed: Duration) {
        let records = timeline.pods.withLock { Array($0.values) }
        let startup = records.compactMap { r in r.running.map { ($0 - r.seen).seconds } }.sorted()
        let bound = records.compactMap(\.bound).sorted()
        Self.say(String(format: "pods: %d Running %.1f s after the first create (%.0f pods/s)", startup.count, elapsed.seconds,
                     Double(startup.count) / max(0.001, elapsed.seconds)))
        Self.say(String(format: "pod startup latency (first seen → Running): p50 %.2f s, p90 %.2f s, p99 %.2f s, max %.2f s",
                     ScaleTimeline.percentile(startup, 0.5), ScaleTimeline.percentile(startup, 0.9), ScaleTimeline.percentile(startup, 0.99),
                     startup.last ?? 0))
        if let first = bound.first, let last = bound.last, last > first {
            Self.say(String(format: "scheduling throughput: %.0f pods/s (first to last binding)", Double(bound.count - 1) / (last - first).seconds))
        }
    }

    /// A cluster-wide LIST of every pod (three times) and one node's pods by field selector (twenty times).
    func listCosts(_ client: RESTClient) async throws {
        var full: [Double] = []
        var bytes = 0
        for _ in 0..<3 {
            let t = ContinuousClock.now
            let response = try await client.request(.GET, "/api/v1/pods", timeout: .seconds(120))
            full.append((ContinuousClock.now - t).seconds)
            bytes = response.body.readableBytes
        }
        var own: [Double] = []
        for i in 0..<20 {
            let t = ContinuousClock.now
            _ = try await client.request(.GET, "/api/v1/pods?fieldSelector=spec.nodeName%3Dhollow-\(i * 7 % nodes)")
            own.append((ContinuousClock.now - t).seconds)
        }
        full.sort()
        own.sort()
        Self.say(String(format: "LIST all pods (%.0f MiB): p50 %.0f ms, max %.0f ms; LIST one node's pods: p50 %.1f ms, max %.1f ms",
                     Double(bytes) / 1_048_576, ScaleTimeline.percentile(full, 0.5) * 1000, (full.last ?? 0) * 1000,
                     ScaleTimeline.percentile(own, 0.5) * 1000, (own.last ?? 0) * 1000))
    }

    /// Latency per verb and resource, from the SLI histogram (time in flow control's queue left out, as the upstream
    /// SLO and clusterloader2 measure it) beside the whole time from arrival.
    static func printLatency(_ metrics: String) {
        let whole = Dictionary(APILatency.rows(metrics: metrics).map { ("\($0.verb) \($0.resource)", $0) }, uniquingKeysWith: { a, _ in a })
        let rows = APILatency.rows(metrics: metrics, histogram: "apiserver_request_sli_duration_seconds").filter { $0.count >= 10 }
        Self.say("API call latency (server histograms; SLO: mutations p99 ≤ 1 s, measured without flow control's queueing):")
        for row in rows.prefix(14) {
            let key = "\(row.verb) \(row.resource)"
            let name = key.padding(toLength: 34, withPad: " ", startingAt: 0)
            let total = whole[key].map { String(format: "  (with queueing: p99 %7.1f ms)", $0.p99 * 1000) } ?? ""
            Self.say(String(format: "  %@ %8.0f calls  p50 %7.1f ms  p99 %7.1f ms%@", name, row.count, row.p50 * 1000, row.p99 * 1000, total))
        }
    }
}
