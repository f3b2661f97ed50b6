import TugAPIMachinery
import TugRuntime

/// What the agent knows about one pod, from which its status is computed.
struct PodObservation {
    var pod: JSONValue
    var sandbox: SandboxInfo?
    /// Every container of the pod the runtime still has (all attempts, all sandboxes).
    var containers: [ContainerInfo]
    /// Containers that cannot run right now, by name: (reason, message), e.g. CrashLoopBackOff, ErrImagePull.
    var waiting: [String: (reason: String, message: String)]
    /// Probe results by container ID.
    var ready: [String: Bool]
    var started: [String: Bool]
    /// Termination messages of exited containers, by container ID.
    var messages: [String: String] = [:]
    var hostIP: String
    var now: String
}

/// Computes `pod.status` the way the kubelet does: container states with lastState and restartCount, phase from
/// the container states and restartPolicy, and the PodReadyToStartContainers/Initialized/Ready/ContainersReady
/// conditions (transition times kept while a condition holds).
enum PodStatusBuilder {
    static let runtimeName = "tug"

    static func build(_ o: PodObservation) -> JSONValue {
        let spec = o.pod["spec"]
        let previous = o.pod["status"]
        let policy = spec["restartPolicy"].stringValue ?? "Always"
        let initSpecs = spec["initContainers"].arrayValue ?? []
        let specs = spec["containers"].arrayValue ?? []

        let initStatuses = initSpecs.map { containerStatus($0, o, isInit: true) }
        let statuses = specs.map { containerStatus($0, o, isInit: false) }
        let initialized = initSpecs.indices.allSatisfy { initStatuses[$0]["state"]["terminated"]["exitCode"].intValue == 0 }
        let initFailed = policy == "Never" && initStatuses.contains { ($0["state"]["terminated"]["exitCode"].intValue ?? 0) != 0 }
        let phase = initFailed ? "Failed" : (initialized ? self.phase(statuses, restartPolicy: policy) : "Pending")

        var status: JSONValue = ["phase": .string(phase), "hostIP": .string(o.hostIP), "hostIPs": [["ip": .string(o.hostIP)]]]
        if let ip = o.sandbox?.ip ?? (o.sandbox?.hostNetwork == true ? o.hostIP : nil) {
            status["podIP"] = .string(ip)
            status["podIPs"] = [["ip": .string(ip)]]
        } else if let ip = previous["podIP"].stringValue, phase == "Succeeded" || phase == "Failed" {
            status["podIP"] = .string(ip)
            status["podIPs"] = previous["podIPs"]
        }
        status["startTime"] = previous["startTime"].isNull ? .string(o.now) : previous["startTime"]
        status["qosClass"] = .string(qosClass(specs + initSpecs))
        if !initSpecs.isEmpty { status["initContainerStatuses"] = .array(initStatuses) }
        status["containerStatuses"] = .array(statuses)

        let terminal = phase == "Succeeded" || phase == "Failed"
        let unready = specs.indices.filter { statuses[$0]["ready"].boolValue != true }.compactMap { specs[$0]["name"].stringValue }
        let incomplete = initSpecs.indices.filter { initStatuses[$0]["state"]["terminated"]["exitCode"].intValue != 0 }.compactMap { initSpecs[$0]["name"].stringValue }
        var conditions: [JSONValue] = [
            condition("PodReadyToStartContainers", o.sandbox?.state == .ready && !terminal, previous: previous, now: o.now),
            condition("Initialized", initialized, previous: previous, now: o.now,
                      reason: "ContainersNotInitialized", message: "containers with incomplete status: [\(incomplete.joined(separator: " "))]"),
        ]
        let containersReady = unready.isEmpty && !terminal
        let notReadyReason = terminal ? "PodCompleted" : "ContainersNotReady"
        let notReadyMessage = terminal ? "" : "containers with unready status: [\(unready.joined(separator: " "))]"
        conditions.append(condition("Ready", containersReady, previous: previous, now: o.now, reason: notReadyReason, message: notReadyMessage))
        conditions.append(condition("ContainersReady", containersReady, previous: previous, now: o.now, reason: notReadyReason, message: notReadyMessage))
        if let scheduled = (previous["conditions"].arrayValue ?? []).first(where: { $0["type"].stringValue == "PodScheduled" }) {
            conditions.append(scheduled)
        }
        status["conditions"] = .array(conditions)
        return status
    }

    static func condition(_ type: String, _ value: Bool, previous: JSONValue, now: String, reason: String? = nil, message: String? = nil) -> JSONValue {
        let text = value ? "True" : "False"
        let old = (previous["conditions"].arrayValue ?? []).first { $0["type"].stringValue == type }
        var result: JSONValue = ["type": .string(type), "status": .string(text), "lastProbeTime": nil,
                                 "lastTransitionTime": old?["status"].stringValue == text ? old!["lastTransitionTime"] : .string(now)]
        if !value, let reason {
            result["reason"] = .string(reason)
            if let message, !message.isEmpty { result["message"] = .string(message) }
        }
        return result
    }

    /// The kubelet's getPhase: waiting containers keep the pod Pending; with none running, the restart policy and
    /// exit codes decide between Running, Succeeded and Failed.
    static func phase(_ statuses: [JSONValue], restartPolicy: String) -> String {
        var running = 0, waiting = 0, stopped = 0, succeeded = 0
        for status in statuses {
            let state = status["state"]
            if state["running"] != .null {
                running += 1
            } else if state["terminated"] != .null {
                stopped += 1
                if state["terminated"]["exitCode"].intValue == 0 { succeeded += 1 }
            } else if status["lastState"]["terminated"] != .null {
                stopped += 1
            } else {
                waiting += 1
            }
        }
        if waiting > 0 { return "Pending" }
        if running > 0 { return "Running" }
        if stopped > 0 {
            switch restartPolicy {
            case "Always": return "Running"
            case "OnFailure": return stopped == succeeded ? "Succeeded" : "Running"
            default: return stopped == succeeded ? "Succeeded" : "Failed"
            }
        }
        return "Pending"
    }

    static func containerStatus(_ spec: JSONValue, _ o: PodObservation, isInit: Bool) -> JSONValue {
        let name = spec["name"].stringValue ?? ""
        let attempts = o.containers.filter { $0.name == name && $0.labels["tug.container.init"] == (isInit ? "true" : "false") }
            .sorted { ($0.attempt, $0.createdAt) > ($1.attempt, $1.createdAt) }
        let latest = attempts.first
        var status: JSONValue = ["name": .string(name), "image": .string(spec["image"].stringValue ?? ""), "imageID": "",
                                 "restartCount": .int(Int64(latest?.attempt ?? 0)), "ready": false, "started": false]
        if let latest {
            status["imageID"] = .string(latest.imageID)
            status["image"] = .string(latest.image)
            status["containerID"] = .string("\(runtimeName)://\(latest.id)")
        }
        let lastExited = attempts.first { $0.state == .exited && $0.id != (latest?.state == .running ? latest?.id : nil) }
        if let latest, latest.state == .running {
            status["state"] = ["running": ["startedAt": .string(trim(latest.startedAt ?? latest.createdAt))]]
            let started = o.started[latest.id] ?? true
            status["started"] = .bool(started)
            status["ready"] = .bool(started && (o.ready[latest.id] ?? true) && !isInit)
            if let previous = attempts.dropFirst().first(where: { $0.state == .exited }) { status["lastState"] = ["terminated": terminated(previous, o)] }
        } else if let waiting = o.waiting[name] {
            status["state"] = ["waiting": ["reason": .string(waiting.reason), "message": .string(waiting.message)]]
            if let lastExited { status["lastState"] = ["terminated": terminated(lastExited, o)] }
        } else if let latest, latest.state == .exited {
            status["state"] = ["terminated": terminated(latest, o)]
            if let previous = attempts.dropFirst().first(where: { $0.state == .exited }) { status["lastState"] = ["terminated": terminated(previous, o)] }
        } else {
            let reason = isInit || (o.pod["spec"]["initContainers"].arrayValue ?? []).isEmpty ? "ContainerCreating" : "PodInitializing"
            status["state"] = ["waiting": ["reason": .string(reason)]]
        }
        if status["lastState"].isNull { status["lastState"] = .emptyObject }
        return status
    }

    static func terminated(_ container: ContainerInfo, _ o: PodObservation) -> JSONValue {
        var result: JSONValue = [
            "exitCode": .int(Int64(container.exitCode ?? 0)), "reason": .string(container.reason ?? "Error"),
            "startedAt": .string(trim(container.startedAt ?? container.createdAt)), "finishedAt": .string(trim(container.finishedAt ?? container.createdAt)),
            "containerID": .string("\(runtimeName)://\(container.id)"),
        ]
        if let message = o.messages[container.id], !message.isEmpty { result["message"] = .string(message) }
        return result
    }

    /// Kubernetes times in status have second precision (`2024-01-02T03:04:05Z`).
    static func trim(_ time: String) -> String {
        guard let dot = time.firstIndex(of: ".") else { return time }
        return String(time[..<dot]) + "Z"
    }

    /// Guaranteed when every container limits and requests cpu and memory equally, BestEffort when none asks for
    /// anything, Burstable otherwise.
    static func qosClass(_ containers: [JSONValue]) -> String {
        var any = false, guaranteed = true
        for container in containers {
            let requests = container["resources"]["requests"], limits = container["resources"]["limits"]
            if !(requests.objectValue ?? [:]).isEmpty || !(limits.objectValue ?? [:]).isEmpty { any = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[resource].stringValue.flatMap(Quantity.parse) else { guaranteed = false; continue }
                let request = requests[resource].stringValue.flatMap(Quantity.parse) ?? limit
                if request != limit { guaranteed = false }
            }
        }
        return !any ? "BestEffort" : (guaranteed ? "Guaranteed" : "Burstable")
    }
}
