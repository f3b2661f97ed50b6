import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import TugAPIMachinery
import TugClient
import TugDNS
import TugDNSWire
import TugOS
import TugProxy

/// `tug bench services`: the service data plane's figures.
///
/// 1. Proxy rule sync with 1,000 and 10,000 Services (two endpoints each, every tenth a NodePort), in a network
///    namespace of the benchmark's own: the first full sync, then the time to apply one Service's endpoint change.
/// 2. Cluster DNS queries per second: the real server on 127.0.0.1, UDP clients on their own threads.
/// 3. HTTP requests per second through a ClusterIP against the pod IP directly: a fresh `tug server` with its node
///    agent and one busybox httpd pod; the client connects from this host.
struct ServicesBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "services", abstract: "Benchmark the service proxy, cluster DNS and ClusterIP traffic.")

    @Option(parsing: .upToNextOption, help: "Service counts for the rule-sync figure.")
    var services: [Int] = [1_000, 10_000]

    @Option(help: "Single-Service changes timed per count.")
    var changes = 100

    @Option(help: "Seconds of DNS load.")
    var dnsSeconds = 5

    @Option(help: "Seconds of HTTP load per path and round (two rounds, alternating).")
    var httpSeconds = 5

    @Option(help: "Client threads for the DNS and HTTP load.")
    var threads = 4

    func execute() async throws {
        print("tug bench services (\(ProcessInfo.processInfo.activeProcessorCount) CPUs)")
        for count in services { try await ruleSync(services: count) }
        try await dnsThroughput()
        try await httpThroughput()
        print("reproduce: make build && .build/release/tug bench services")
    }

    // MARK: Rule sync

    static func port(_ i: Int, endpoints: Int) -> ServicePort {
        ServicePort(namespace: "bench", name: "svc-\(i)", portName: "http", proto: "tcp", clusterIPs: ["10.\(96 + i >> 16).\(i >> 8 & 255).\(i & 255)"],
                    port: 80, nodePort: i % 10 == 0 ? 30000 + i / 10 % 2768 : nil,
                    endpoints: (0..<endpoints).map { .init(ip: "10.\(200 + $0).\(i >> 8 & 255).\(i & 255)", port: 8080) })
    }

    func ruleSync(services count: Int) async throws {
        let runner = ProcessCommandRunner()
        let netns = "tug-bench-\(getpid())"
        let added = try await runner.run(Command(["ip", "netns", "add", netns], timeout: .seconds(10)))
        guard added.status == 0 else { throw CommandFailure("ip netns add \(netns) failed (root and iproute2 needed): \(added.stderrText)") }
        defer { _ = try? Process.run(URL(fileURLWithPath: "/usr/sbin/ip"), arguments: ["netns", "del", netns]).waitUntilExit() }
        let syncer = ProxySyncer(rules: ProxyRules(names: ChainNames(root: "/bench/\(count)"), clusterCIDR: "10.42.0.0/16"),
                                 iptables: IPTables(runner: runner, netns: netns))
        var ports = (0..<count).map { Self.port($0, endpoints: 2) }
        let started = ContinuousClock.now
        let full = try await syncer.sync(ports)
        let fullTime = ContinuousClock.now - started
        var times: [Duration] = []
        var lines: [Int] = []
        for change in 0..<changes {
            // A different Service each time: it loses an endpoint, or gets its two back.
            let index = change * 7919 % count
            ports[index].endpoints = ports[index].endpoints.count == 2 ? [ports[index].endpoints[0]] : Self.port(index, endpoints: 2).endpoints
            let t = ContinuousClock.now
            let outcome = try await syncer.sync(ports)
            times.append(ContinuousClock.now - t)
            lines.append(outcome.lines)
        }
        print("  rule sync, \(count) services (\(full.rules) rules): first full sync \(APIBench.ms(fullTime)); one-Service change \(APIBench.percentiles(times)), max \(APIBench.ms(times.max() ?? .zero)); \(lines.max() ?? 0) restore lines at most")
    }

    // MARK: DNS

    func dnsThroughput() async throws {
        let count = 1_000
        let services: [JSONValue] = (0..<count).map { i in
            ["metadata": ["name": .string("svc-\(i)"), "namespace": "bench"],
             "spec": ["clusterIP": .string("10.96.\(i >> 8).\(i & 255)"), "ports": [["name": "http", "port": 80]]]]
        }
        let resolver = DNSResolver(forwarder: nil)
        resolver.update(ClusterZone(services: services, slices: []))
        let server = try await DNSServer.bind(host: "127.0.0.1", port: 0, resolver: resolver, logger: Logger(label: "bench.dns"))
        let queries: [[UInt8]] = (0..<count).map { i in
            var query = DNSMessage(id: UInt16(i), question: .init(name: "svc-\(i).bench.svc.cluster.local", type: DNSMessage.RecordType.a.rawValue))
            query.recursionDesired = true
            return query.encoded()
        }
        // Every answer is checked: NOERROR with one address.
        let port = server.port
        let window = 32
        let answered = LoadThreads.run(threads: threads, duration: .seconds(Int64(dnsSeconds))) { thread, deadline in
            guard let fd = LoadThreads.connect(ip: "127.0.0.1", port: port, type: Int32(SOCK_DGRAM.rawValue)) else { return 0 }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1500)
            var good = 0
            var next = thread * 97
            while ContinuousClock.now < deadline {
                for _ in 0..<window {
                    let query = queries[next % count]
                    next += 1
                    _ = send(fd, query, query.count, 0)
                }
                for _ in 0..<window {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n <= 0 { break }
                    // Flags (NOERROR) and one answer.
                    if n > 12, buffer[3] & 0x0F == 0, buffer[7] == 1 { good += 1 }
                }
            }
            return good
        }
        await server.close()
        print("  cluster DNS: \(answered / dnsSeconds) queries/s answered (A records of 1,000 Services, \(threads) UDP clients with \(window) in flight each, \(dnsSeconds) s)")
    }

    // MARK: HTTP through a ClusterIP

    func httpThroughput() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-svc-\(UUID().uuidString.prefix(8))").path
        let port = try FreePort.find(), agentPort = try FreePort.find()
        let subnet = Int.random(in: 200...250)
        let (server, client, _) = try await BenchServer.start(dataDir: dataDir, port: port, arguments: [
            "--agent-port", String(agentPort), "--node-name", "bench-node", "--pod-cidr", "10.42.\(subnet).0/24",
            "--service-cidr", "10.97.\(subnet).0/24", "--cluster-dns-port", "0", "--ingress-http-port", "0", "--ingress-https-port", "0",
        ])
        do {
            try await measureHTTP(client: client)
        } catch {
            await BenchServer.tearDown(client: client, server: server, agent: nil, dataDir: dataDir)
            throw error
        }
        await BenchServer.tearDown(client: client, server: server, agent: nil, dataDir: dataDir)
    }

    func measureHTTP(client: RESTClient) async throws {
        try await PodBench().waitForNode(client)
        let pod: JSONValue = [
            "metadata": ["name": "web", "labels": ["app": "web"]],
            "spec": ["terminationGracePeriodSeconds": 0, "containers": [[
                "name": "web", "image": "busybox", "command": ["sh", "-c", "mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www"],
                "readinessProbe": ["tcpSocket": ["port": 8080], "periodSeconds": 1],
            ]]],
        ]
        _ = try await client.create("/api/v1/namespaces/default/pods", pod)
        let service = try await client.create("/api/v1/namespaces/default/services", [
            "metadata": ["name": "web"], "spec": ["selector": ["app": "web"], "ports": [["port": 80, "targetPort": 8080]]],
        ])
        guard let clusterIP = service["spec"]["clusterIP"].stringValue else { throw CommandFailure("the Service got no cluster IP") }
        var podIP: String?
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let current = try await client.send(.GET, "/api/v1/namespaces/default/pods/web")
            if current["status"]["conditions"].arrayValue?.contains(where: { $0["type"] == "Ready" && $0["status"] == "True" }) == true,
               let ip = current["status"]["podIP"].stringValue, LoadThreads.httpGet(ip: clusterIP, port: 80, path: "/index.html") {
                podIP = ip
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let podIP else { throw CommandFailure("the pod did not answer through its Service within 60 s") }
        var direct: [Double] = [], viaService: [Double] = []
        for _ in 0..<2 {
            direct.append(rate(ip: podIP, port: 8080))
            viaService.append(rate(ip: clusterIP, port: 80))
        }
        let d = direct.reduce(0, +) / Double(direct.count), c = viaService.reduce(0, +) / Double(viaService.count)
        print("  HTTP through a ClusterIP: \(Int(c)) requests/s vs \(Int(d)) direct to the pod IP (\(String(format: "%.2f", c / d))×); busybox httpd, a new connection per request, \(threads) client threads, 2 × \(httpSeconds) s each")
    }

    func rate(ip: String, port: Int) -> Double {
        let count = LoadThreads.run(threads: threads, duration: .seconds(Int64(httpSeconds))) { _, deadline in
            var ok = 0
            while ContinuousClock.now < deadline { if LoadThreads.httpGet(ip: ip, port: port, path: "/index.html") { ok += 1 } }
            return ok
        }
        return Double(count) / Double(httpSeconds)
    }
}
