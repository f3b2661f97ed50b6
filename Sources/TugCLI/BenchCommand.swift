import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TugAPIMachinery
import TugClient
import TugOS

/// `tug bench`: benchmarks that print figures with the command that reproduces them.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks.", subcommands: [APIBench.self, AuthzBench.self, PodBench.self, SecretsBench.self, AuditBench.self, SchedulerBench.self, ServicesBench.self, ScaleBench.self])
}

/// `tug bench api`: starts a fresh `tug server`, then measures readiness, memory and API latency/throughput.
struct APIBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "api", abstract: "Benchmark the API server and store.")

    @Option(help: "Objects to create for the LIST and memory figures.")
    var objects = 10_000

    @Option(help: "Concurrent clients for the throughput figure.")
    var clients = 16

    @Option(help: "Sequential creates for the single-client latency figure.")
    var sequential = 1_000

    @Option(help: "Port for the benchmark server (default: a free port).")
    var port: Int?

    func execute() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let port = try self.port ?? FreePort.find()
        let (process, client, ready) = try await BenchServer.start(dataDir: dataDir, port: port, arguments: ["--disable-agent"], maxConnections: clients * 2)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let pid = process.processIdentifier
        try await Task.sleep(for: .seconds(1))
        let idleRSS = Self.rssMiB(pid: pid)

        var report: [(String, String)] = [("start to ready", Self.ms(ready)), ("RSS idle", String(format: "%.1f MiB", idleRSS))]

        // 1. Single-client create latency (ConfigMaps).
        var latencies: [Duration] = []
        for i in 0..<sequential {
            let t = ContinuousClock.now
            let r = try await client.request(.POST, "/api/v1/namespaces/default/configmaps", body: ["metadata": ["name": .string("seq-\(i)")], "data": ["k": "v"]])
            guard r.status == 201 else { throw CommandFailure("create failed: \(r.status) \(r.json)") }
            latencies.append(ContinuousClock.now - t)
        }
        report.append(("create, 1 client", Self.percentiles(latencies)))

        // 2. Durable create throughput with N clients (Pods, which are also the LIST set).
        let counter = Shared(0)
        let tStart = ContinuousClock.now
        let concurrentLatencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [Duration] = []
                    while true {
                        let i = counter.withLock { n -> Int in defer { n += 1 }; return n }
                        if i >= objects { return mine }
                        // Bound to one of 100 (absent) nodes, as an agent's share of a cluster: the per-node LIST figures.
                        let node = JSONValue.string("node-\(i % 100)")
                        let pod: JSONValue = ["metadata": ["name": .string("pod-\(i)"), "labels": ["app": "bench", "shard": .string(String(i % 10)), "node": node]],
                                              "spec": ["nodeName": node, "containers": [["name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                                                       "ports": [["containerPort": 8080]], "env": [["name": "INDEX", "value": .string(String(i))]]]]]]
                        let t = ContinuousClock.now
                        let r = try await client.request(.POST, "/api/v1/namespaces/default/pods", body: pod)
                        guard r.status == 201 else { throw CommandFailure("create failed: \(r.status) \(r.json)") }
                        mine.append(ContinuousClock.now - t)
                    }
                }
            }
            return try await group.reduce(into: [Duration]()) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - tStart
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        report.append(("create, \(clients) clients", "\(Int(Double(objects) / seconds)) creates/s; " + Self.percentiles(concurrentLatencies)))

        // 3. GET latency.
        var gets: [Duration] = []
        for i in 0..<1_000 {
            let t = ContinuousClock.now
            _ = try await client.request(.GET, "/api/v1/namespaces/default/pods/pod-\((i * 7919) % objects)")
            gets.append(ContinuousClock.now - t)
        }
        report.append(("get, 1 client", Self.percentiles(gets)))

        // 4. LIST of all pods.
        var lists: [Duration] = []
        var listBytes = 0
        for _ in 0..<20 {
            let t = ContinuousClock.now
            let r = try await client.request(.GET, "/api/v1/namespaces/default/pods")
            lists.append(ContinuousClock.now - t)
            listBytes = r.body.readableBytes
        }
        report.append(("list \(objects) pods (\(listBytes / 1_048_576) MiB)", Self.percentiles(lists)))

        // 4b. One node's pods, as its agent lists them: by spec.nodeName (the store's field index) and, for the cost
        // of a scan, by an equivalent label selector.
        for (name, query) in [("list one node's pods, fieldSelector (index)", "fieldSelector=spec.nodeName%3Dnode-7"),
                              ("list one node's pods, labelSelector (scan)", "labelSelector=node%3Dnode-7")] {
            var samples: [Duration] = []
            for _ in 0..<200 {
                let t = ContinuousClock.now
                let r = try await client.request(.GET, "/api/v1/pods?\(query)")
                samples.append(ContinuousClock.now - t)
                guard r.json["items"].arrayValue?.count == objects / 100 + (objects % 100 > 7 ? 1 : 0) else {
                    throw CommandFailure("\(query) returned \(r.json["items"].arrayValue?.count ?? -1) pods")
                }
            }
            report.append((name, Self.percentiles(samples)))
        }

        // 5. Watch delivery: time from sending a create to receiving its ADDED event.
        let sent = Shared<[String: ContinuousClock.Instant]>([:])
        let delivered = Shared<[Duration]>([])
        let watchCount = 1_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            let rv = try await client.request(.GET, "/api/v1/namespaces/default/secrets").json["metadata"]["resourceVersion"].stringValue ?? "0"
            group.addTask {
                try await client.watch("/api/v1/namespaces/default/secrets?watch=true&resourceVersion=\(rv)") { event in
                    let now = ContinuousClock.now
                    let name = event["object"]["metadata"]["name"].stringValue ?? ""
                    let count = delivered.withLock { d -> Int in
                        if let t = sent.withLock({ $0[name] }) { d.append(now - t) }
                        return d.count
                    }
                    return count < watchCount
                }
            }
            for i in 0..<watchCount {
                let name = "w-\(i)"
                sent.withLock { $0[name] = ContinuousClock.now }
                _ = try await client.request(.POST, "/api/v1/namespaces/default/secrets", body: ["metadata": ["name": .string(name)], "stringData": ["k": "v"]])
            }
            try await group.waitForAll()
        }
        report.append(("watch delivery (create sent → event)", Self.percentiles(delivered.withLock { $0 })))

        try await Task.sleep(for: .seconds(1))
        report.append(("RSS after \(objects + sequential + watchCount) objects", String(format: "%.1f MiB", Self.rssMiB(pid: pid))))

        print("tug bench api — \(objects) objects, \(clients) clients, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("reproduce: tug bench api --objects \(objects) --clients \(clients) --sequential \(sequential)")
        let width = report.map(\.0.count).max() ?? 0
        for (name, value) in report {
            print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
        try await client.shutdown()
        try await Self.stop(process)
    }

    /// SIGTERM, then wait (without Foundation's spinning waitUntilExit) for a graceful exit, SIGKILL after 20 s.
    static func stop(_ process: Process) async throws {
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            print("warning: the benchmark server did not stop within 20 s of SIGTERM; killing it")
            kill(process.processIdentifier, SIGKILL)
        }
    }

    static func ms(_ d: Duration) -> String {
        String(format: "%.2f ms", Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15)
    }

    static func percentiles(_ values: [Duration]) -> String {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return "no samples" }
        func at(_ p: Double) -> Duration { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return "p50 \(ms(at(0.50))), p99 \(ms(at(0.99))) (n=\(sorted.count))"
    }

    /// Resident set size from /proc (VmRSS, kB).
    static func rssMiB(pid: Int32) -> Double {
        guard let status = ProcFS.read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kb / 1024
    }
}

/// A value shared between benchmark tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) throws -> sending R) rethrows -> R { try mutex.withLock(body) }
}

/// Asks the kernel for a free loopback TCP port, or whether one is listening.
enum FreePort {
    static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandFailure("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CommandFailure("could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
