import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TugAPIMachinery
import TugRuntime

/// Runs startup, liveness and readiness probes for running containers, one task per probe, and tells the pod
/// worker when a result changes. Semantics are the kubelet's: nothing but the startup probe runs until it
/// succeeds; `failureThreshold` consecutive failures fail liveness (the container is restarted) or readiness;
/// `successThreshold` consecutive successes make a container ready again.
final class ProbeManager: Sendable {
    private struct ContainerProbes {
        var podUID: String
        var pod: JSONValue = .null
        var container = ""
        var ready = false
        var started = false
        var hasReadiness = false
        var hasStartup = false
        var livenessFailed = false
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex<[String: ContainerProbes]>([:])
    let runtime: any ContainerRuntime
    let http: HTTPClient
    /// Where failed probes are reported (Unhealthy events).
    let events: (any PodEvents)?
    /// Called with a pod UID when one of its containers' probe results changed.
    let changed: @Sendable (String) -> Void

    init(runtime: any ContainerRuntime, events: (any PodEvents)? = nil, changed: @escaping @Sendable (String) -> Void) {
        self.runtime = runtime
        self.events = events
        self.changed = changed
        var configuration = HTTPClient.Configuration(certificateVerification: .none, redirectConfiguration: .disallow)
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func readiness() -> [String: Bool] {
        state.withLock { $0.compactMapValues { $0.hasReadiness ? $0.ready : nil } }
    }

    func startup() -> [String: Bool] {
        state.withLock { $0.compactMapValues { $0.hasStartup ? $0.started : nil } }
    }

    func livenessFailed(_ containerID: String) -> Bool {
        state.withLock { $0[containerID]?.livenessFailed ?? false }
    }

    func forget(podUID: String) {
        let tasks = state.withLock { entries -> [Task<Void, Never>] in
            let ids = entries.filter { $0.value.podUID == podUID }.map(\.key)
            return ids.flatMap { entries.removeValue(forKey: $0)?.tasks ?? [] }
        }
        tasks.forEach { $0.cancel() }
    }

    func watch(container: ContainerInfo, spec: JSONValue, pod: JSONValue, podIP: String) {
        let startupSpec = Self.resolvingPorts(spec["startupProbe"], spec), livenessSpec = Self.resolvingPorts(spec["livenessProbe"], spec)
        let readinessSpec = Self.resolvingPorts(spec["readinessProbe"], spec)
        guard startupSpec != .null || livenessSpec != .null || readinessSpec != .null else { return }
        let id = container.id
        var entry = ContainerProbes(podUID: container.podUID, pod: pod, container: container.name)
        entry.hasStartup = startupSpec != .null
        entry.hasReadiness = readinessSpec != .null
        entry.started = startupSpec == .null
        // The entry exists before any probe runs: a probe that finds no entry ends its loop, so a first result
        // arriving before the entry was stored would stop that probe for good (a container never Ready).
        state.withLock { $0[id] = entry }
        var tasks: [Task<Void, Never>] = []
        // Each probe task ends when the container is forgotten (cancelled) or stops running.
        if startupSpec != .null {
            tasks.append(Task { await self.loop(id, startupSpec, kind: "Startup", podIP: podIP) { ok, successes, failures in self.update(id) { s in
                if ok, successes >= Self.threshold(startupSpec, "successThreshold"), !s.started { s.started = true; return true }
                if !ok, failures >= Self.threshold(startupSpec, "failureThreshold"), !s.livenessFailed { s.livenessFailed = true; return true }
                return false
            } } })
        }
        if livenessSpec != .null {
            tasks.append(Task { await self.loop(id, livenessSpec, kind: "Liveness", podIP: podIP) { ok, _, failures in self.update(id) { s in
                guard s.started else { return false }
                if !ok, failures >= Self.threshold(livenessSpec, "failureThreshold"), !s.livenessFailed { s.livenessFailed = true; return true }
                return false
            } } })
        }
        if readinessSpec != .null {
            tasks.append(Task { await self.loop(id, readinessSpec, kind: "Readiness", podIP: podIP) { ok, successes, failures in self.update(id) { s in
                guard s.started else { return false }
                if ok, successes >= Self.threshold(readinessSpec, "successThreshold"), !s.ready { s.ready = true; return true }
                if !ok, failures >= Self.threshold(readinessSpec, "failureThreshold"), s.ready { s.ready = false; return true }
                return false
            } } })
        }
        let forgotten = state.withLock { entries -> Bool in
            guard entries[id] != nil else { return true }
            entries[id]?.tasks = tasks
            return false
        }
        if forgotten { tasks.forEach { $0.cancel() } }
    }

    static func threshold(_ probe: JSONValue, _ key: String) -> Int {
        Int(max(1, probe[key].intValue ?? (key == "failureThreshold" ? 3 : 1)))
    }

    /// Applies a result to the container's entry; notifies the pod worker when `apply` reports a change.
    private func update(_ id: String, _ apply: (inout ContainerProbes) -> Bool) -> Bool {
        let (changedPod, alive) = state.withLock { entries -> (String?, Bool) in
            guard var entry = entries[id] else { return (nil, false) }
            let changed = apply(&entry)
            entries[id] = entry
            return (changed ? entry.podUID : nil, true)
        }
        if let changedPod { changed(changedPod) }
        return alive
    }

    /// Probes every `periodSeconds` after `initialDelaySeconds`, counting consecutive successes and failures.
    private func loop(_ id: String, _ probe: JSONValue, kind: String, podIP: String, record: @Sendable (Bool, Int, Int) -> Bool) async {
        let period = Duration.seconds(max(1, probe["periodSeconds"].intValue ?? 10))
        let timeout = Duration.seconds(max(1, probe["timeoutSeconds"].intValue ?? 1))
        if let delay = probe["initialDelaySeconds"].intValue, delay > 0 {
            try? await Task.sleep(for: .seconds(delay))
        }
        var successes = 0, failures = 0
        while !Task.isCancelled {
            let (ok, message) = await check(probe, containerID: id, podIP: podIP, timeout: timeout)
            if ok { successes += 1; failures = 0 } else { failures += 1; successes = 0 }
            if !ok, let (pod, container) = state.withLock({ entries in entries[id].map { ($0.pod, $0.container) } }) {
                events?.warning(pod, container: container, "Unhealthy", "\(kind) probe failed: \(message)")
            }
            guard record(ok, successes, failures) else { return }
            try? await Task.sleep(for: period)
        }
    }

    func run(_ probe: JSONValue, containerID: String, podIP: String, timeout: Duration) async -> Bool {
        await check(probe, containerID: containerID, podIP: podIP, timeout: timeout).ok
    }

    /// Runs one probe or handler; the message says why it failed, in the kubelet's words.
    func check(_ probe: JSONValue, containerID: String, podIP: String, timeout: Duration) async -> (ok: Bool, message: String) {
        let nanoseconds = Int64(timeout.components.seconds) * 1_000_000_000
        if let command = probe["exec"]["command"].arrayValue?.compactMap(\.stringValue) {
            do {
                let result = try await runtime.exec(containerID, command: command, timeout: timeout)
                let output = (result.stdoutText + result.stderrText).trimmingCharacters(in: .whitespacesAndNewlines)
                return (result.status == 0, output.isEmpty ? "command \(command) exited with \(result.status)" : output)
            } catch {
                return (false, "command \(command) failed: \(error)")
            }
        }
        if probe["httpGet"] != .null {
            let get = probe["httpGet"]
            guard let port = Self.port(get["port"]) else { return (false, "invalid port \(get["port"])") }
            let host = get["host"].stringValue ?? podIP
            let scheme = (get["scheme"].stringValue ?? "HTTP").lowercased()
            var path = get["path"].stringValue ?? "/"
            if !path.hasPrefix("/") { path = "/" + path }
            let url = "\(scheme)://\(host):\(port)\(path)"
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: "kube-probe/1.32")
            request.headers.add(name: "Accept", value: "*/*")
            for header in get["httpHeaders"].arrayValue ?? [] {
                if let name = header["name"].stringValue, let value = header["value"].stringValue { request.headers.replaceOrAdd(name: name, value: value) }
            }
            do {
                let response = try await http.execute(request, timeout: .nanoseconds(nanoseconds))
                _ = try? await response.body.collect(upTo: 10 * 1024)
                let code = Int(response.status.code)
                return ((200..<400).contains(code), "HTTP probe failed with statuscode: \(code)")
            } catch {
                return (false, "Get \"\(url)\": \(error)")
            }
        }
        if probe["tcpSocket"] != .null {
            guard let port = Self.port(probe["tcpSocket"]["port"]) else { return (false, "invalid port") }
            let host = probe["tcpSocket"]["host"].stringValue ?? podIP
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.nanoseconds(nanoseconds))
            do {
                let channel = try await bootstrap.connect(host: host, port: port).get()
                try? await channel.close()
                return (true, "")
            } catch {
                return (false, "dial tcp \(host):\(port): \(error)")
            }
        }
        return (false, probe["grpc"] != .null ? "gRPC probes are not supported by this node" : "the probe has no handler")
    }

    /// Replaces a named `port` (`http`) with the number the container's `ports` give it.
    static func resolvingPorts(_ probe: JSONValue, _ container: JSONValue) -> JSONValue {
        var probe = probe
        for kind in ["httpGet", "tcpSocket"] {
            guard let name = probe[kind]["port"].stringValue, Int(name) == nil else { continue }
            if let number = (container["ports"].arrayValue ?? []).first(where: { $0["name"].stringValue == name })?["containerPort"] {
                probe[kind]["port"] = number
            }
        }
        return probe
    }

    static func port(_ value: JSONValue) -> Int? {
        if let number = value.intValue { return Int(number) }
        return value.stringValue.flatMap { Int($0) }
    }

    func shutdown() async {
        let tasks = state.withLock { entries in entries.values.flatMap(\.tasks) }
        tasks.forEach { $0.cancel() }
        try? await http.shutdown()
    }
}
