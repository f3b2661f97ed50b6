public import Foundation
public import TugAPIMachinery

/// A Deployment's status from its ReplicaSets, with the Available and Progressing conditions as kube's
/// deployment controller words them (reasons and messages are what `kubectl rollout status` and `describe` show).
public enum DeploymentStatus {
    static func int(_ value: JSONValue) -> Int64 { value.intValue ?? 0 }

    /// Whether the rollout is finished: every replica updated and available, the latest generation observed.
    public static func isComplete(_ deployment: JSONValue, _ status: JSONValue) -> Bool {
        let wanted = deployment["spec"]["replicas"].intValue ?? 1
        return int(status["updatedReplicas"]) == wanted && int(status["replicas"]) == wanted
            && int(status["availableReplicas"]) == wanted && int(status["observedGeneration"]) >= deployment.generation
    }

    /// Whether anything moved since `old`: more updated, ready or available pods, or fewer pods in total.
    static func progressed(_ old: JSONValue, _ new: JSONValue) -> Bool {
        int(new["updatedReplicas"]) > int(old["updatedReplicas"]) || int(new["replicas"]) < int(old["replicas"])
            || int(new["readyReplicas"]) > int(old["readyReplicas"]) || int(new["availableReplicas"]) > int(old["availableReplicas"])
    }

    public static func calculate(_ deployment: JSONValue, all: [JSONValue], new: JSONValue?, now: Date) -> JSONValue {
        func sum(_ field: String) -> Int64 { all.reduce(0) { $0 + int($1["status"][field]) } }
        let wanted = deployment["spec"]["replicas"].intValue ?? 1
        var status = deployment["status"].isNull ? JSONValue.emptyObject : deployment["status"]
        let available = sum("availableReplicas")
        let total = all.reduce(0) { $0 + int($1["spec"]["replicas"]) }
        status["observedGeneration"] = .int(deployment.generation)
        status["replicas"] = .int(sum("replicas"))
        status["updatedReplicas"] = .int(new.map { int($0["status"]["replicas"]) } ?? 0)
        status["readyReplicas"] = .int(sum("readyReplicas"))
        status["availableReplicas"] = .int(available)
        status["unavailableReplicas"] = .int(max(0, total - available))
        for field in ["replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"] where status[field] == .int(0) {
            status[field] = .null
        }
        let minAvailable = wanted - Int64(DeploymentRollout.bounds(deployment).unavailable)
        if available >= minAvailable {
            set(&status, type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", now: now)
        } else {
            set(&status, type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability.", now: now)
        }
        return status
    }

    /// Adds the Progressing condition for a rollout (not for a paused Deployment).
    public static func progress(_ deployment: JSONValue, status: inout JSONValue, new: JSONValue?, now: Date) {
        guard deployment["spec"]["progressDeadlineSeconds"].intValue != nil else { return }
        let current = condition(status, "Progressing")
        let name = new?.name ?? ""
        if current?["reason"].stringValue == "DeploymentPaused" { return }
        if int(status["replicas"]) == int(status["updatedReplicas"]), current?["reason"].stringValue == "NewReplicaSetAvailable" { return }
        if isComplete(deployment, status) {
            set(&status, type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: "ReplicaSet \"\(name)\" has successfully progressed.", now: now)
        } else if progressed(deployment["status"], status) {
            set(&status, type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: "ReplicaSet \"\(name)\" is progressing.", now: now, touch: true)
        } else if timedOut(deployment, status: status, now: now) {
            set(&status, type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "ReplicaSet \"\(name)\" has timed out progressing.", now: now)
        }
    }

    /// The rollout has made no progress for `progressDeadlineSeconds`.
    static func timedOut(_ deployment: JSONValue, status: JSONValue, now: Date) -> Bool {
        guard let deadline = deployment["spec"]["progressDeadlineSeconds"].intValue, let progressing = condition(status, "Progressing") else { return false }
        if progressing["reason"].stringValue == "ProgressDeadlineExceeded" { return true }
        guard let from = progressing["lastUpdateTime"].stringValue.flatMap(KubeTime.parse) else { return false }
        return now.timeIntervalSince(from) > Double(deadline)
    }

    /// Seconds until an in-progress rollout would time out (to look at it again then).
    public static func untilDeadline(_ deployment: JSONValue, status: JSONValue, now: Date) -> TimeInterval? {
        guard let deadline = deployment["spec"]["progressDeadlineSeconds"].intValue, !isComplete(deployment, status),
              let progressing = condition(status, "Progressing"), progressing["status"].stringValue == "True",
              let from = progressing["lastUpdateTime"].stringValue.flatMap(KubeTime.parse) else { return nil }
        let left = Double(deadline) - now.timeIntervalSince(from)
        return left > 0 ? left + 0.01 : nil
    }

    public static func condition(_ status: JSONValue, _ type: String) -> JSONValue? {
        (status["conditions"].arrayValue ?? []).first { $0["type"].stringValue == type }
    }

    /// Sets a condition: the transition time moves only when `status` changes; the update time whenever the
    /// reason or message does (or on every call with `touch`, for progress).
    public static func set(_ status: inout JSONValue, type: String, status value: String, reason: String, message: String, now: Date, touch: Bool = false) {
        let time = JSONValue.string(KubeTime.format(now))
        var conditions = status["conditions"].arrayValue ?? []
        let index = conditions.firstIndex { $0["type"].stringValue == type }
        let existing = index.map { conditions[$0] }
        var condition: JSONValue = ["type": .string(type), "status": .string(value), "reason": .string(reason), "message": .string(message)]
        let sameStatus = existing?["status"].stringValue == value
        condition["lastTransitionTime"] = sameStatus ? existing?["lastTransitionTime"] ?? time : time
        let unchanged = sameStatus && existing?["reason"].stringValue == reason && existing?["message"].stringValue == message
        condition["lastUpdateTime"] = unchanged && !touch ? existing?["lastUpdateTime"] ?? time : time
        if let index { conditions[index] = condition } else { conditions.append(condition) }
        // Available first, then Progressing, as kube lists them.
        conditions.sort { order($0) < order($1) }
        status["conditions"] = .array(conditions)
    }

    static func order(_ condition: JSONValue) -> Int {
        ["Available": 0, "Progressing": 1, "ReplicaFailure": 2][condition["type"].stringValue ?? ""] ?? 3
    }
}
