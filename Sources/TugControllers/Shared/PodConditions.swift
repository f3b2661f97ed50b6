public import Foundation
public import TugAPIMachinery

/// Pod facts the workload controllers decide on.
public enum PodConditions {
    /// Not finished and not being deleted: the pods a controller counts as its replicas.
    public static func isActive(_ pod: JSONValue) -> Bool {
        let phase = pod["status"]["phase"].stringValue
        return phase != "Succeeded" && phase != "Failed" && pod.deletionTimestamp == nil
    }

    public static func condition(_ object: JSONValue, _ type: String) -> JSONValue? {
        (object["status"]["conditions"].arrayValue ?? []).first { $0["type"].stringValue == type }
    }

    public static func isReady(_ pod: JSONValue) -> Bool {
        condition(pod, "Ready")?["status"].stringValue == "True"
    }

    /// When the pod became Ready, if it is.
    public static func readySince(_ pod: JSONValue) -> Date? {
        guard let ready = condition(pod, "Ready"), ready["status"].stringValue == "True" else { return nil }
        return ready["lastTransitionTime"].stringValue.flatMap(KubeTime.parse)
    }

    /// Ready for at least `minReadySeconds`.
    public static func isAvailable(_ pod: JSONValue, minReadySeconds: Int64, now: Date) -> Bool {
        guard isReady(pod) else { return false }
        guard minReadySeconds > 0 else { return true }
        guard let since = readySince(pod) else { return false }
        return now.timeIntervalSince(since) >= Double(minReadySeconds)
    }

    /// How long until a pod that is ready becomes available (nil when it is not ready or already available).
    public static func untilAvailable(_ pod: JSONValue, minReadySeconds: Int64, now: Date) -> TimeInterval? {
        guard minReadySeconds > 0, let since = readySince(pod) else { return nil }
        let left = Double(minReadySeconds) - now.timeIntervalSince(since)
        return left > 0 ? left : nil
    }

    public static func restarts(_ pod: JSONValue) -> Int64 {
        (pod["status"]["containerStatuses"].arrayValue ?? []).reduce(0) { $0 + ($1["restartCount"].intValue ?? 0) }
    }
}
