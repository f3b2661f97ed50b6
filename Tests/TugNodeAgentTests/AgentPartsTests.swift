import Foundation
import Testing
import TugAPIMachinery
@testable import TugNodeAgent
@testable import TugRuntime

@Suite struct AgentPartsTests {
    @Test func expandsVariableReferencesLikeKubernetes() {
        let vars = ["A": "1", "B": "two"]
        #expect(ContainerEnvironment.expand("$(A)-$(B)", with: vars) == "1-two")
        #expect(ContainerEnvironment.expand("$$(A) $(C) $", with: vars) == "$(A) $(C) $")
        #expect(ContainerEnvironment.expand("no refs", with: vars) == "no refs")
    }

    @Test func backoffDoublesToTheCap() {
        let backoff = RestartBackoff(initial: 10, maximum: 40)
        #expect(backoff.remaining("k", finished: 100, now: 100) == 0)
        backoff.restarted("k", now: 100)
        #expect(backoff.remaining("k", finished: 101, now: 102) == 9)
        backoff.restarted("k", now: 112)
        backoff.restarted("k", now: 140)
        backoff.restarted("k", now: 200)
        #expect(backoff.delay("k") == 40)
        #expect(backoff.remaining("k", finished: 400, now: 500) == 0, "a long run resets the back-off")
    }

    @Test func resolvConfFollowsDNSPolicy() {
        let builder = SandboxConfigBuilder(clusterDNS: ["10.43.0.10"], clusterDomain: "cluster.local", hostResolvConf: "nameserver 9.9.9.9\nsearch corp\n")
        let pod: JSONValue = ["metadata": ["name": "p", "namespace": "ns", "uid": "u"], "spec": ["dnsPolicy": "ClusterFirst"]]
        #expect(builder.resolvConf(pod) == "search ns.svc.cluster.local svc.cluster.local cluster.local corp\nnameserver 10.43.0.10\noptions ndots:5\n")
        var host = pod
        host["spec"]["dnsPolicy"] = "Default"
        #expect(builder.resolvConf(host) == "search corp\nnameserver 9.9.9.9\n")
        var none = pod
        none["spec"] = ["dnsPolicy": "None", "dnsConfig": ["nameservers": ["1.1.1.1"], "options": [["name": "ndots", "value": "2"]]]]
        #expect(builder.resolvConf(none) == "nameserver 1.1.1.1\noptions ndots:2\n")
        let noClusterDNS = SandboxConfigBuilder(clusterDNS: [], clusterDomain: "cluster.local", hostResolvConf: "nameserver 9.9.9.9\n")
        #expect(noClusterDNS.resolvConf(pod) == "nameserver 9.9.9.9\n", "ClusterFirst without cluster DNS falls back to the host")
    }

    @Test func sandboxConfigCarriesHostPortsAndAliases() {
        let builder = SandboxConfigBuilder(clusterDNS: [], clusterDomain: "cluster.local", hostResolvConf: "")
        let pod: JSONValue = ["metadata": ["name": "web", "namespace": "ns", "uid": "u"], "spec": [
            "hostAliases": [["ip": "10.0.0.9", "hostnames": ["db", "db.local"]]],
            "containers": [["name": "c", "ports": [["containerPort": 80, "hostPort": 8080, "protocol": "TCP"], ["containerPort": 81]]]],
        ]]
        let config = builder.build(pod: pod, attempt: 2)
        #expect(config.hostname == "web" && config.attempt == 2)
        #expect(config.portMappings == [.init(hostPort: 8080, containerPort: 80, proto: "TCP")])
        #expect(config.hostAliases == ["10.0.0.9\tdb\tdb.local"])
    }

    @Test func resourcesBecomeCgroupLimits() {
        let r = ContainerConfigBuilder.resources(["requests": ["cpu": "250m"], "limits": ["cpu": "500m", "memory": "64Mi"]])
        #expect(r.cpuShares == 256 && r.cpuQuota == 50_000 && r.cpuPeriod == 100_000 && r.memoryLimit == 64 << 20)
        #expect(ContainerConfigBuilder.resources(.emptyObject).cpuShares == 2)
        #expect(ContainerConfigBuilder.capabilities(["drop": ["ALL"], "add": ["NET_ADMIN"]]) == ["NET_ADMIN"])
        #expect(ContainerConfigBuilder.capabilities(["drop": ["CAP_KILL"]]).contains("KILL") == false)
        // Quantities beyond Int64 saturate instead of trapping (a pod spec is user input).
        let huge = ContainerConfigBuilder.resources(["requests": ["cpu": "1e200"], "limits": ["cpu": "1e200", "memory": "9e30"]])
        #expect(huge.cpuShares == 262_144 && huge.cpuQuota == .max && huge.memoryLimit == .max)
    }

    /// client-go sends an unset divisor as "0"; the kubelet reads it as 1 (this divided by zero and trapped).
    @Test func resourceFieldDivisorZeroMeansOne() {
        let container: JSONValue = ["name": "c", "resources": ["limits": ["cpu": "1500m", "memory": "64Mi"], "requests": ["cpu": "1e200"]]]
        let environment = ContainerEnvironment(pod: ["spec": ["containers": [container]]], lookup: { _, _ in nil }, hostIP: "10.0.0.1", podIP: nil)
        #expect(environment.resourceValue(["resource": "limits.cpu", "divisor": "0"], container: container) == "2")
        #expect(environment.resourceValue(["resource": "limits.memory", "divisor": "0"], container: container) == String(64 << 20))
        #expect(environment.resourceValue(["resource": "limits.memory", "divisor": "1Mi"], container: container) == "64")
        #expect(environment.resourceValue(["resource": "limits.cpu", "divisor": "1m"], container: container) == "1500")
        #expect(environment.resourceValue(["resource": "requests.cpu"], container: container) == String(Int64.max))
    }

    @Test func criLogRendering() {
        let text = """
            2026-01-01T00:00:00.000000001Z stdout F one
            2026-01-01T00:00:01.000000001Z stderr P par
            2026-01-01T00:00:02.000000001Z stderr F tial
            2026-01-01T00:00:03.000000001Z stdout F three

            """
        let (entries, consumed) = CRILogRenderer.entries(in: Array(text.utf8)[...])
        #expect(entries.count == 4 && consumed == text.utf8.count)
        var renderer = CRILogRenderer(options: CRILogOptions())
        #expect(renderer.lines(from: entries).map { String(decoding: $0, as: UTF8.self) } == ["one\n", "partial\n", "three\n"])
        var options = CRILogOptions()
        options.timestamps = true
        options.since = KubeTime.parse("2026-01-01T00:00:01Z")
        var since = CRILogRenderer(options: options)
        #expect(since.lines(from: entries).map { String(decoding: $0, as: UTF8.self) } == [
            "2026-01-01T00:00:01.000000001Z partial\n", "2026-01-01T00:00:03.000000001Z three\n"])
        let query = CRILogOptions(query: ["follow": "true", "tailLines": "5", "timestamps": "true"])
        #expect(query.follow && query.tailLines == 5 && query.timestamps)
    }

    @Test func statusPhaseRules() {
        func status(_ state: JSONValue, last: JSONValue = .emptyObject) -> JSONValue { ["state": state, "lastState": last] }
        let running = status(["running": [:]]), ok = status(["terminated": ["exitCode": 0]]), failed = status(["terminated": ["exitCode": 1]])
        let waiting = status(["waiting": ["reason": "ContainerCreating"]])
        let crashLoop = status(["waiting": ["reason": "CrashLoopBackOff"]], last: ["terminated": ["exitCode": 1]])
        #expect(PodStatusBuilder.phase([running, waiting], restartPolicy: "Always") == "Pending")
        #expect(PodStatusBuilder.phase([running, ok], restartPolicy: "Never") == "Running")
        #expect(PodStatusBuilder.phase([ok, ok], restartPolicy: "Never") == "Succeeded")
        #expect(PodStatusBuilder.phase([ok, failed], restartPolicy: "Never") == "Failed")
        #expect(PodStatusBuilder.phase([ok, failed], restartPolicy: "OnFailure") == "Running")
        #expect(PodStatusBuilder.phase([crashLoop], restartPolicy: "Always") == "Running")
        #expect(PodStatusBuilder.qosClass([["resources": ["limits": ["cpu": "1", "memory": "1Gi"]]]]) == "Guaranteed")
        #expect(PodStatusBuilder.qosClass([["resources": ["requests": ["cpu": "1"]]]]) == "Burstable")
        #expect(PodStatusBuilder.qosClass([["name": "c"]]) == "BestEffort")
    }

    @Test func atomicWriterSwapsTheWholeSet() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-aw-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = AtomicWriter(directory: dir)
        #expect(try writer.write(["a": (Array("1".utf8), 0o644), "sub/b": (Array("2".utf8), 0o600)]))
        #expect(try String(contentsOfFile: "\(dir)/a", encoding: .utf8) == "1")
        #expect(try String(contentsOfFile: "\(dir)/sub/b", encoding: .utf8) == "2")
        #expect(try writer.write(["a": (Array("1".utf8), 0o644), "sub/b": (Array("2".utf8), 0o600)]) == false, "unchanged content is not rewritten")
        try writer.write(["c": (Array("3".utf8), 0o644)])
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/a"))
        #expect(try String(contentsOfFile: "\(dir)/c", encoding: .utf8) == "3")
        #expect(throws: AtomicWriter.Failure.self) { try writer.write(["../escape": ([], 0o644)]) }
    }
}

@Suite struct ServiceLinksTests {
    @Test func kubeletStyleVariables() {
        let services: [JSONValue] = [
            ["metadata": ["name": "my-web"], "spec": ["clusterIP": "10.43.0.20", "ports": [["name": "http", "port": 80, "protocol": "TCP"], ["name": "dns-udp", "port": 53, "protocol": "UDP"]]]],
            ["metadata": ["name": "headless"], "spec": ["clusterIP": "None", "ports": [["port": 80]]]],
        ]
        let vars = Dictionary(ServiceLinks.variables(services), uniquingKeysWith: { a, _ in a })
        #expect(vars["MY_WEB_SERVICE_HOST"] == "10.43.0.20")
        #expect(vars["MY_WEB_SERVICE_PORT"] == "80")
        #expect(vars["MY_WEB_SERVICE_PORT_HTTP"] == "80")
        #expect(vars["MY_WEB_SERVICE_PORT_DNS_UDP"] == "53")
        #expect(vars["MY_WEB_PORT"] == "tcp://10.43.0.20:80")
        #expect(vars["MY_WEB_PORT_53_UDP"] == "udp://10.43.0.20:53")
        #expect(vars["MY_WEB_PORT_53_UDP_ADDR"] == "10.43.0.20")
        #expect(vars.keys.allSatisfy { !$0.hasPrefix("HEADLESS") })
    }
}
