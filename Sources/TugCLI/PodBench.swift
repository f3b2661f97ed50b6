import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TugAPIMachinery
import TugClient
import TugOS

/// `tug bench pods`: a fresh `tug server --disable-agent` plus a `tug agent` joined to it by token (so the agent is
/// its own process and its memory can be read), then pod create → Ready as seen by a watch: single pods one after
/// another, then a burst; and the agent's RSS. Needs root, runc and the CNI plugins, like the agent itself.
struct PodBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "pods", abstract: "Benchmark pod start-up on this node.")

    @Option(help: "Pods created one at a time (each waits for the previous to be Ready).")
    var single = 20

    @Option(help: "Pods created at once for the burst figure.")
    var burst = 50

    func execute() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-pods-\(UUID().uuidString.prefix(8))").path
        let port = try FreePort.find(), agentPort = try FreePort.find()
        let (server, client, _) = try await BenchServer.start(dataDir: dataDir, port: port, arguments: ["--disable-agent"])
        var agent: Process?
        do {
            let token = try String(contentsOfFile: "\(dataDir)/server/node-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let joined = ContinuousClock.now
            agent = try BenchServer.spawn(["agent", "--server", "https://127.0.0.1:\(port)", "--token", token, "--data-dir", dataDir,
                                           "--agent-port", String(agentPort), "--node-name", "bench-node", "--log-level", "warning"])
            try await waitForNode(client)
            let nodeReady = ContinuousClock.now - joined
            try await run(client: client, agentPID: agent!.processIdentifier, nodeReady: nodeReady, dataDir: dataDir)
        } catch {
            await BenchServer.tearDown(client: client, server: server, agent: agent, dataDir: dataDir)
            throw error
        }
        await BenchServer.tearDown(client: client, server: server, agent: agent, dataDir: dataDir)
    }

    func waitForNode(_ client: RESTClient) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let node = try? await client.request(.GET, "/api/v1/nodes/bench-node").json
            if node?["status"]["conditions"].arrayValue?.contains(where: { $0["type"] == "Ready" && $0["status"] == "True" }) == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CommandFailure("the benchmark node did not become Ready within 60 s (is this root, with runc and the CNI plugins? try `tug doctor`)")
    }

    static func pod(_ name: String) -> JSONValue {
        ["metadata": ["name": .string(name), "labels": ["app": "bench"]],
         "spec": ["terminationGracePeriodSeconds": 0,
                  "containers": [["name": "c", "image": "busybox", "imagePullPolicy": "IfNotPresent", "command": ["sleep", "3600"]]]]]
    }

    func run(client: RESTClient, agentPID: Int32, nodeReady: Duration, dataDir: String) async throws {
        let readyAt = Shared<[String: ContinuousClock.Instant]>([:])
        let version = try await client.request(.GET, "/api/v1/namespaces/default/pods").json["metadata"]["resourceVersion"].stringValue ?? "0"
        let watcher = Task {
            try await client.watch("/api/v1/namespaces/default/pods?watch=true&resourceVersion=\(version)") { event in
                let object = event["object"]
                let ready = object["status"]["conditions"].arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
                if ready, let name = object["metadata"]["name"].stringValue {
                    let now = ContinuousClock.now
                    readyAt.withLock { if $0[name] == nil { $0[name] = now } }
                }
                return !Task.isCancelled
            }
        }
        defer { watcher.cancel() }
        func waitReady(_ names: [String], timeout: Duration = .seconds(120)) async throws -> [ContinuousClock.Instant] {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let times = readyAt.withLock { map in names.compactMap { map[$0] } }
                if times.count == names.count { return times }
                try await Task.sleep(for: .milliseconds(1))
            }
            throw CommandFailure("pods not Ready within \(timeout): \(names.filter { name in readyAt.withLock { $0[name] == nil } }.prefix(5))")
        }
        func create(_ name: String) async throws {
            let response = try await client.request(.POST, "/api/v1/namespaces/default/pods", body: Self.pod(name))
            guard response.status == 201 else { throw CommandFailure("create \(name): HTTP \(response.status) \(response.json["message"])") }
        }

        // Warm-up: the first pod unpacks the busybox layer and creates the bridge; it is not counted.
        try await create("warm-up")
        _ = try await waitReady(["warm-up"])
        try await Task.sleep(for: .seconds(2))
        let idle = Self.memory(pid: agentPID)

        var singles: [Duration] = []
        for i in 0..<single {
            let name = "single-\(i)"
            let sent = ContinuousClock.now
            try await create(name)
            singles.append(try await waitReady([name])[0] - sent)
        }

        let names = (0..<burst).map { "burst-\($0)" }
        let burstStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names { group.addTask { try await create(name) } }
            try await group.waitForAll()
        }
        let burstTimes = try await waitReady(names)
        let burstAll = (burstTimes.max() ?? burstStart) - burstStart
        try await Task.sleep(for: .seconds(2))
        let busy = Self.memory(pid: agentPID)
        let monitors = Self.monitorMemory(root: "\(dataDir)/agent/runc")

        print("tug bench pods — \(single) single pods, a burst of \(burst), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("reproduce: tug bench pods --single \(single) --burst \(burst)")
        let report: [(String, String)] = [
            ("agent start → node Ready", APIBench.ms(nodeReady)),
            ("single pod create → Ready (watch)", APIBench.percentiles(singles)),
            ("burst of \(burst): all Ready", APIBench.ms(burstAll)),
            ("burst of \(burst): each pod create → Ready", APIBench.percentiles(burstTimes.map { $0 - burstStart })),
            ("agent memory idle (1 pod)", idle.description),
            ("agent memory with \(single + burst + 1) pods", busy.description),
            ("container monitors (\(monitors.count))", monitors.total.description + String(format: "; %.1f MiB PSS each", monitors.total.pss / Double(max(1, monitors.count)))),
        ]
        let width = report.map(\.0.count).max() ?? 0
        for (name, value) in report {
            print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }

    /// RSS, PSS (shared pages divided among the processes mapping them) and private dirty memory, in MiB.
    struct Memory: CustomStringConvertible {
        var rss = 0.0, pss = 0.0, privateDirty = 0.0
        var description: String { String(format: "RSS %.1f MiB, PSS %.1f MiB, private %.1f MiB", rss, pss, privateDirty) }
    }

    static func memory(pid: Int32) -> Memory {
        var memory = Memory()
        for line in (ProcFS.read("/proc/\(pid)/smaps_rollup") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kb = Double(fields[1]) else { continue }
            switch fields[0] {
            case "Rss:": memory.rss = kb / 1024
            case "Pss:": memory.pss = kb / 1024
            case "Private_Dirty:": memory.privateDirty = kb / 1024
            default: break
            }
        }
        return memory
    }

    /// The `tug __monitor` processes of this runc root and their summed memory.
    static func monitorMemory(root: String) -> (count: Int, total: Memory) {
        var count = 0
        var total = Memory()
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[1] == "__monitor", arguments.contains(root) else { continue }
            let memory = memory(pid: pid)
            count += 1
            total.rss += memory.rss
            total.pss += memory.pss
            total.privateDirty += memory.privateDirty
        }
        return (count, total)
    }

}
