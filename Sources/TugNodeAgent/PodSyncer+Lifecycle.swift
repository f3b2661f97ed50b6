import Foundation
import TugAPIMachinery
import TugRuntime

/// What one sync prepares at most once, the first time a container needs it.
struct StartContext {
    var pod: JSONValue
    var uid: String
    var volumes: [String: PreparedVolume]? = nil
}

extension PodSyncer {
    func logPath(uid: String, name: String, attempt: Int) -> String {
        "\(podsRoot)/\(uid)/logs/\(name)/\(attempt).log"
    }

    func terminationLogPath(uid: String, name: String, attempt: Int) -> String {
        "\(podsRoot)/\(uid)/containers/\(name)/\(attempt)-termination-log"
    }

    /// Pulls the image, prepares volumes and environment, starts the container; records the waiting reason the
    /// kubelet would show when a step fails. Returns whether the container started.
    func start(_ spec: JSONValue, isInit: Bool, attempt: Int, sandbox: SandboxInfo, context: inout StartContext) async -> Bool {
        let uid = context.uid
        let pod = context.pod
        let name = spec["name"].stringValue ?? ""
        let reference = spec["image"].stringValue ?? ""
        let image: ResolvedImage
        do {
            let events = self.events
            let result = try await images.ensure(reference, policy: spec["imagePullPolicy"].stringValue ?? "IfNotPresent") {
                events.normal(pod, container: name, "Pulling", "Pulling image \"\(reference)\"")
            }
            image = result.image
            if let took = result.pulled {
                let seconds = String(format: "%.3fs", Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
                events.normal(pod, container: name, "Pulled", "Successfully pulled image \"\(reference)\" in \(seconds)")
            } else if memory.waiting(uid)[name] == nil, attempt == 0 {
                events.normal(pod, container: name, "Pulled", "Container image \"\(reference)\" already present on machine")
            }
        } catch {
            let reason = (error as? ImageUnavailable)?.reason ?? "ErrImagePull"
            memory.setWaiting(uid, name, (reason, "\(error)"))
            events.warning(pod, container: name, "Failed", reason == "ErrImageNeverPull" ? "\(error)" : "Failed to pull image \"\(reference)\": \(error)")
            events.warning(pod, container: name, "Failed", "Error: \(reason)")
            backoff.restarted("\(uid)/\(name)/pull")
            return false
        }
        backoff.forget(prefix: "\(uid)/\(name)/pull")
        do {
            if context.volumes == nil {
                context.volumes = try await volumes.prepare(pod: pod, hostIP: hostIP, podIP: sandbox.ip)
            }
        } catch {
            memory.setWaiting(uid, name, ("CreateContainerConfigError", "\(error)"))
            events.warning(pod, container: name, "Failed", "Error: \(error)")
            return false
        }
        let config: ContainerConfig
        do {
            let namespace = pod["metadata"]["namespace"].stringValue ?? "default"
            let lookup: ContainerEnvironment.DataLookup = { kind, objectName in
                try await cluster.data(kind: kind, namespace: namespace, name: objectName)?.mapValues { String(decoding: $0, as: UTF8.self) }
            }
            let environment = ContainerEnvironment(pod: pod, lookup: lookup, hostIP: hostIP, podIP: sandbox.ip ?? hostIP)
            let builder = ContainerConfigBuilder(pod: pod, environment: environment, volumes: context.volumes ?? [:], serviceEnv: await serviceEnvironment(pod))
            let termination = terminationLogPath(uid: uid, name: name, attempt: attempt)
            try FileManager.default.createDirectory(atPath: (termination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: termination, contents: nil, attributes: [.posixPermissions: 0o666])
            var built = try await builder.build(container: spec, image: image, attempt: attempt, logPath: logPath(uid: uid, name: name, attempt: attempt),
                                                terminationLog: termination)
            try security.apply(pod: pod, container: spec, to: &built)
            built.labels[ContainerLabels.isInit] = isInit ? "true" : "false"
            config = built
        } catch {
            memory.setWaiting(uid, name, ("CreateContainerConfigError", "\(error)"))
            events.warning(pod, container: name, "Failed", "Error: \(error)")
            return false
        }
        do {
            let started = try await runtime.startContainer(config, in: sandbox)
            memory.setWaiting(uid, name, nil)
            events.normal(pod, container: name, "Created", "Created container \(name)")
            events.normal(pod, container: name, "Started", "Started container \(name)")
            // postStart runs before the container counts as started; if it fails the container is killed and restarted
            // by its restart policy (the kubelet's FailedPostStartHook).
            let postStart = spec["lifecycle"]["postStart"]
            if postStart != .null, await !runHook(postStart, container: started, podIP: sandbox.ip ?? hostIP, timeout: .seconds(30)) {
                logger.info("postStart hook failed; killing the container", metadata: ["pod": "\(podName(pod))", "container": "\(name)"])
                try? await runtime.stopContainer(started.id, gracePeriod: gracePeriod(pod))
                return true
            }
            if !isInit { probes.watch(container: started, spec: spec, pod: pod, podIP: sandbox.ip ?? hostIP) }
            return true
        } catch {
            memory.setWaiting(uid, name, ("RunContainerError", "failed to start container \"\(name)\": \(error)"))
            events.warning(pod, container: name, "Failed", "Error: failed to start container \"\(name)\": \(error)")
            return false
        }
    }

    /// Service-link variables: the `kubernetes` Service's for every container, and with `enableServiceLinks` (the
    /// default) those of every Service in the pod's namespace, as the kubelet sets them. When the Services cannot be
    /// read, the `kubernetes` variables still come from the cluster's fixed address.
    func serviceEnvironment(_ pod: JSONValue) async -> [(String, String)] {
        let namespace = pod["metadata"]["namespace"].stringValue ?? "default"
        let links = pod["spec"]["enableServiceLinks"].boolValue ?? true
        do {
            var services = try await cluster.services(namespace: "default").filter { $0.name == "kubernetes" }
            if links { services += try await cluster.services(namespace: namespace).filter { namespace != "default" || $0.name != "kubernetes" } }
            if !services.isEmpty { return ServiceLinks.variables(services) }
        } catch {
            logger.debug("services not readable for service links", metadata: ["error": "\(error)"])
        }
        return [("KUBERNETES_SERVICE_HOST", "10.43.0.1"), ("KUBERNETES_SERVICE_PORT", "443"), ("KUBERNETES_SERVICE_PORT_HTTPS", "443"),
                ("KUBERNETES_PORT", "tcp://10.43.0.1:443"), ("KUBERNETES_PORT_443_TCP", "tcp://10.43.0.1:443"),
                ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"), ("KUBERNETES_PORT_443_TCP_PORT", "443"), ("KUBERNETES_PORT_443_TCP_ADDR", "10.43.0.1")]
    }

    /// The container's termination message: its termination-log file, or with FallbackToLogsOnError the end of its
    /// log when it failed and wrote none (4 KiB at most, as the kubelet keeps).
    func terminationMessage(uid: String, container: ContainerInfo) -> String? {
        let path = terminationLogPath(uid: uid, name: container.name, attempt: container.attempt)
        if let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            return String(decoding: data.prefix(4096), as: UTF8.self)
        }
        return nil
    }

    /// Stops everything of a pod: preStop hooks and SIGTERM within the grace period, then SIGKILL; removes the
    /// sandbox (network, cgroups, containers) and volumes; with `deleteFromAPI`, finishes the graceful delete.
    /// A lifecycle handler (exec, httpGet, tcpSocket, or sleep), as the probes run them; true when it succeeded.
    func runHook(_ handler: JSONValue, container: ContainerInfo, podIP: String, timeout: Duration) async -> Bool {
        if let seconds = handler["sleep"]["seconds"].intValue {
            try? await Task.sleep(for: min(.seconds(seconds), timeout))
            return true
        }
        return await probes.run(ProbeManager.resolvingPorts(handler, .null), containerID: container.id, podIP: podIP, timeout: timeout)
    }

    func terminate(uid: String, pod: JSONValue?, deleteFromAPI: Bool) async {
        logger.info("stopping pod", metadata: ["uid": "\(uid)", "pod": "\(pod.map(podName) ?? "(gone)")"])
        do {
            let grace = pod.map(gracePeriod) ?? .zero
            let podIP = try await runtime.sandboxes().first { $0.podUID == uid && $0.state == .ready }?.ip ?? hostIP
            let running = try await runtime.containers(ofPod: uid).filter { $0.state == .running }
            await withTaskGroup(of: Void.self) { group in
                for container in running {
                    let spec = (pod?["spec"]["containers"].arrayValue ?? []).first { $0["name"].stringValue == container.name }
                    if let pod { events.normal(pod, container: container.name, "Killing", "Stopping container \(container.name)") }
                    group.addTask {
                        let started = ContinuousClock.now
                        if let preStop = spec?["lifecycle"]["preStop"], preStop != .null, grace > .zero {
                            _ = await runHook(preStop, container: container, podIP: podIP, timeout: grace)
                        }
                        let left = grace - (ContinuousClock.now - started)
                        try? await runtime.stopContainer(container.id, gracePeriod: max(left, .zero))
                    }
                }
            }
            probes.forget(podUID: uid)
            for sandbox in try await runtime.sandboxes() where sandbox.podUID == uid {
                try await runtime.removeSandbox(sandbox.id)
            }
            for container in try await runtime.containers(ofPod: uid) {
                try await runtime.removeContainer(container.id)
            }
            try volumes.cleanUp(podUID: uid)
            backoff.forget(prefix: "\(uid)/")
            memory.forget(uid)
            if deleteFromAPI, let pod {
                try await writer.deletePod(namespace: pod["metadata"]["namespace"].stringValue ?? "", name: pod["metadata"]["name"].stringValue ?? "", uid: uid)
            }
        } catch {
            logger.warning("pod termination failed", metadata: ["uid": "\(uid)", "error": "\(error)"])
        }
    }
}
