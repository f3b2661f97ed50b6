public import Foundation
public import TugAPIMachinery

public struct PodStrategy: ResourceStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.apply(spec: &object["spec"])
        if object["spec"]["serviceAccountName"].isNull { object["spec"]["serviceAccountName"] = "default" }
        if object["spec"]["serviceAccount"].isNull { object["spec"]["serviceAccount"] = object["spec"]["serviceAccountName"] }
        // priority and preemptionPolicy come from the Priority admission plugin (from priorityClassName).
    }

    public func prepareForCreate(_ object: inout JSONValue) {
        object["status"] = ["phase": "Pending", "qosClass": .string(Self.qosClass(object["spec"]))]
    }

    /// Pods bound to a node terminate gracefully: their node agent confirms the deletion. Others go at once.
    public func gracePeriod(_ pod: JSONValue, requested: Int64?) -> Int64 {
        guard !(pod["spec"]["nodeName"].stringValue ?? "").isEmpty else { return 0 }
        if pod["status"]["phase"] == "Succeeded" || pod["status"]["phase"] == "Failed" { return 0 }
        return max(0, requested ?? pod["spec"]["terminationGracePeriodSeconds"].intValue ?? 30)
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        PodValidation.validate(spec: object["spec"], field: "spec")
    }

    /// Only images, activeDeadlineSeconds, tolerations and terminationGracePeriodSeconds may change on a pod.
    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        func mutable(_ spec: JSONValue) -> JSONValue {
            var s = spec
            for list in ["containers", "initContainers"] {
                if case .array(let cs) = s[list] { s[list] = .array(cs.map { var c = $0; c["image"] = .null; return c }) }
            }
            s["activeDeadlineSeconds"] = .null
            s["tolerations"] = .null
            s["terminationGracePeriodSeconds"] = .null
            return s
        }
        if mutable(object["spec"]) != mutable(old["spec"]) {
            errors.append(FieldError(.forbidden, field: "spec", detail: "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
        }
        return errors
    }

    static func qosClass(_ spec: JSONValue) -> String {
        var anyRequests = false
        var guaranteed = true
        for c in spec["containers"].arrayValue ?? [] {
            let limits = c["resources"]["limits"].objectValue ?? [:]
            let requests = c["resources"]["requests"].objectValue ?? [:]
            if !limits.isEmpty || !requests.isEmpty { anyRequests = true }
            for r in ["cpu", "memory"] {
                guard let l = limits[r] else { guaranteed = false; continue }
                if let q = requests[r], q != l { guaranteed = false }
            }
        }
        if !anyRequests { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    public var columns: [TableColumn] {
        [
            .name,
            TableColumn("Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
            TableColumn("Status", description: "The aggregate status of the containers in this pod."),
            TableColumn("Restarts", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            .age,
            TableColumn("IP", description: "The IP address assigned to the pod", priority: 1),
            TableColumn("Node", description: "The name of the node where the pod is scheduled", priority: 1),
            TableColumn("Nominated Node", description: "The name of the node where the pod is nominated to be scheduled", priority: 1),
            TableColumn("Readiness Gates", description: "The readiness gates of the pod", priority: 1),
        ]
    }

    public func cells(_ pod: JSONValue, now: Date) -> [JSONValue] {
        let statuses = pod["status"]["containerStatuses"].arrayValue ?? []
        let total = pod["spec"]["containers"].arrayValue?.count ?? 0
        let ready = statuses.filter { $0["ready"].boolValue == true }.count
        var restarts: Int64 = 0
        var lastRestart: String?
        for s in statuses {
            restarts += s["restartCount"].intValue ?? 0
            if let finished = s["lastState"]["terminated"]["finishedAt"].stringValue, finished > (lastRestart ?? "") { lastRestart = finished }
        }
        var restartCell = String(restarts)
        if restarts > 0, let lastRestart { restartCell += " (\(TableColumn.since(lastRestart, now: now)) ago)" }
        let gates = pod["spec"]["readinessGates"].arrayValue ?? []
        let gateCell: String
        if gates.isEmpty {
            gateCell = "<none>"
        } else {
            let conditions = pod["status"]["conditions"].arrayValue ?? []
            let passing = gates.filter { gate in conditions.contains { $0["type"] == gate["conditionType"] && $0["status"] == "True" } }.count
            gateCell = "\(passing)/\(gates.count)"
        }
        return [
            .string(pod.name), .string("\(ready)/\(total)"), .string(Self.status(pod)), .string(restartCell), TableColumn.age(pod, now: now),
            .string(pod["status"]["podIP"].stringValue ?? "<none>"), .string(pod["spec"]["nodeName"].stringValue ?? "<none>"),
            .string(pod["status"]["nominatedNodeName"].stringValue ?? "<none>"), .string(gateCell),
        ]
    }

    /// The STATUS column: Terminating, a waiting/terminated reason, `Init:x/y`, else the phase.
    public static func status(_ pod: JSONValue) -> String {
        var reason = pod["status"]["reason"].stringValue ?? pod["status"]["phase"].stringValue ?? "Pending"
        let initStatuses = pod["status"]["initContainerStatuses"].arrayValue ?? []
        let initCount = pod["spec"]["initContainers"].arrayValue?.count ?? 0
        var initializing = false
        for (i, s) in initStatuses.enumerated() {
            if s["state"]["terminated"]["exitCode"].intValue == 0, s["state"]["terminated"] != .null { continue }
            initializing = true
            if let r = s["state"]["terminated"]["reason"].stringValue { reason = "Init:" + r }
            else if let r = s["state"]["waiting"]["reason"].stringValue, r != "PodInitializing" { reason = "Init:" + r }
            else { reason = "Init:\(i)/\(initCount)" }
            break
        }
        if !initializing {
            var hasRunning = false
            for s in (pod["status"]["containerStatuses"].arrayValue ?? []).reversed() {
                if let r = s["state"]["waiting"]["reason"].stringValue, !r.isEmpty { reason = r }
                else if let r = s["state"]["terminated"]["reason"].stringValue, !r.isEmpty { reason = r }
                else if s["state"]["terminated"] != .null {
                    let code = s["state"]["terminated"]["exitCode"].intValue ?? 0
                    reason = "ExitCode:\(code)"
                } else if s["state"]["running"] != .null, s["ready"].boolValue == true { hasRunning = true }
            }
            if reason == "Completed", hasRunning { reason = "Running" }
        }
        if pod.deletionTimestamp != nil { reason = pod["status"]["reason"].stringValue == "NodeLost" ? "Unknown" : "Terminating" }
        return reason
    }

    public func selectableFields(_ pod: JSONValue) -> [String: String] {
        [
            "spec.nodeName": pod["spec"]["nodeName"].stringValue ?? "",
            "spec.restartPolicy": pod["spec"]["restartPolicy"].stringValue ?? "",
            "spec.schedulerName": pod["spec"]["schedulerName"].stringValue ?? "",
            "spec.serviceAccountName": pod["spec"]["serviceAccountName"].stringValue ?? "",
            "spec.hostNetwork": pod["spec"]["hostNetwork"].boolValue == true ? "true" : "false",
            "status.phase": pod["status"]["phase"].stringValue ?? "",
            "status.podIP": pod["status"]["podIP"].stringValue ?? "",
            "status.nominatedNodeName": pod["status"]["nominatedNodeName"].stringValue ?? "",
        ]
    }
}
