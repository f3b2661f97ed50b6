public import Foundation
public import TugAPIMachinery

/// Which pods a scale-down removes first (kube's ActivePodsWithRanks ordering): unscheduled before scheduled,
/// pending before unknown before running, not ready before ready, ready for less time before longer, more restarts
/// before fewer, newer before older.
public enum PodRanking {
    public static func deletionOrder(_ pods: [JSONValue], now: Date) -> [JSONValue] {
        pods.sorted { a, b in
            let ka = key(a), kb = key(b)
            if ka.scheduled != kb.scheduled { return !ka.scheduled }
            if ka.phase != kb.phase { return ka.phase < kb.phase }
            if ka.ready != kb.ready { return !ka.ready }
            if ka.ready, ka.readySince != kb.readySince { return ka.readySince > kb.readySince }
            if ka.restarts != kb.restarts { return ka.restarts > kb.restarts }
            return ka.created > kb.created
        }
    }

    struct Key {
        var scheduled: Bool
        var phase: Int
        var ready: Bool
        var readySince: Date
        var restarts: Int64
        var created: String
    }

    static func key(_ pod: JSONValue) -> Key {
        let phase: Int = switch pod["status"]["phase"].stringValue {
        case "Pending", nil: 0
        case "Running": 2
        default: 1
        }
        return Key(scheduled: !(pod["spec"]["nodeName"].stringValue ?? "").isEmpty, phase: phase, ready: PodConditions.isReady(pod),
                   readySince: PodConditions.readySince(pod) ?? .distantPast, restarts: PodConditions.restarts(pod),
                   created: pod.creationTimestamp ?? "")
    }
}
