import Foundation
public import TugAPIMachinery

/// The pure arithmetic of a Deployment rollout (kube's deployment/util): template hashing, surge and unavailability
/// bounds, how far the new ReplicaSet may grow and the old ones shrink. No I/O, so every rule has a table test.
public enum DeploymentRollout {
    public static let revisionAnnotation = "deployment.kubernetes.io/revision"
    public static let revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
    public static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    public static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
    public static let hashLabel = "pod-template-hash"
    /// Deployment annotations that are not copied to its ReplicaSets.
    static let notCopied: Set<String> = ["kubectl.kubernetes.io/last-applied-configuration", revisionAnnotation, revisionHistoryAnnotation,
                                         desiredReplicasAnnotation, maxReplicasAnnotation, "deprecated.deployment.rollback.to"]

    // MARK: Template identity

    /// A short, DNS-safe hash of the pod template (FNV-32a over its canonical JSON, plus the collision count),
    /// spelled with kube's consonant-and-digit alphabet so it never forms words.
    public static func templateHash(_ template: JSONValue, collisionCount: Int64?) -> String {
        var hash: UInt32 = 2_166_136_261
        func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt32(byte)
                hash = hash &* 16_777_619
            }
        }
        mix(JSONWriter.bytes(template))
        if let collisionCount { mix(withUnsafeBytes(of: UInt32(truncatingIfNeeded: collisionCount).littleEndian) { Array($0) }) }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    /// The template a ReplicaSet runs, without the hash label it was given (to compare it with a Deployment's).
    public static func templateWithoutHash(_ template: JSONValue) -> JSONValue {
        var t = template
        var labels = t["metadata"]["labels"].stringMap
        labels[hashLabel] = nil
        t["metadata"]["labels"] = labels.isEmpty ? .null : JSONValue(stringMap: labels)
        if t["metadata"] == .emptyObject { t["metadata"] = .null }
        return t
    }

    /// Whether a ReplicaSet runs the Deployment's template. Compared as typed objects would be: null fields and
    /// empty metadata count as absent (`kubectl rollout undo` writes back a template with `creationTimestamp: null`).
    public static func sameTemplate(_ rs: JSONValue, _ deployment: JSONValue) -> Bool {
        normalized(templateWithoutHash(rs["spec"]["template"])) == normalized(deployment["spec"]["template"])
    }

    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields):
            var out: JSONObject = [:]
            for (key, field) in fields {
                let child = normalized(field)
                if child.isNull { continue }
                if key == "metadata", child == .emptyObject { continue }
                out[key] = child
            }
            return .object(out)
        case .array(let items):
            return .array(items.map(normalized))
        default:
            return value
        }
    }

    public static func revision(_ object: JSONValue) -> Int64 {
        Int64(object.annotations[revisionAnnotation] ?? "") ?? 0
    }

    // MARK: Bounds

    /// `maxSurge` (rounded up) and `maxUnavailable` (rounded down) as pod counts; both zero is read as one unavailable.
    public static func bounds(_ deployment: JSONValue) -> (surge: Int, unavailable: Int) {
        let replicas = Int(deployment["spec"]["replicas"].intValue ?? 1)
        guard deployment["spec"]["strategy"]["type"].stringValue ?? "RollingUpdate" == "RollingUpdate" else { return (0, 0) }
        let rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        let surge = scaled(rolling["maxSurge"], of: replicas, roundUp: true, default: "25%")
        let unavailable = scaled(rolling["maxUnavailable"], of: replicas, roundUp: false, default: "25%")
        if surge == 0 && unavailable == 0 { return (0, 1) }
        return (surge, min(unavailable, replicas))
    }

    /// An IntOrString: an absolute count, or a percentage of `total`.
    public static func scaled(_ value: JSONValue, of total: Int, roundUp: Bool, default fallback: String) -> Int {
        if let n = value.intValue { return Int(n) }
        let text = value.stringValue ?? fallback
        guard text.hasSuffix("%"), let percent = Double(text.dropLast()) else { return Int(text) ?? 0 }
        let exact = percent * Double(total) / 100
        return Int(clamping: Quantity.saturating(roundUp ? exact.rounded(.up) : exact.rounded(.down)))
    }

    // MARK: Rolling update steps

    static func replicas(_ rs: JSONValue) -> Int { Int(rs["spec"]["replicas"].intValue ?? 0) }
    static func available(_ rs: JSONValue) -> Int { Int(rs["status"]["availableReplicas"].intValue ?? 0) }

    /// The size the new ReplicaSet may grow to now: up to `replicas + maxSurge` pods in all ReplicaSets together.
    public static func newReplicaSetReplicas(_ deployment: JSONValue, all: [JSONValue], new: JSONValue?) -> Int {
        let wanted = Int(deployment["spec"]["replicas"].intValue ?? 1)
        guard deployment["spec"]["strategy"]["type"].stringValue ?? "RollingUpdate" == "RollingUpdate" else { return wanted }
        let current = new.map(replicas) ?? 0
        let total = all.reduce(0) { $0 + replicas($1) }
        let maxTotal = wanted + bounds(deployment).surge
        if total >= maxTotal { return current }
        return current + max(0, min(maxTotal - total, wanted - current))
    }

    /// How many old pods may go now without dropping below `replicas - maxUnavailable` available pods, counting
    /// new pods that are not available yet as unavailable.
    public static func oldScaleDownBudget(_ deployment: JSONValue, all: [JSONValue], new: JSONValue?) -> Int {
        let wanted = Int(deployment["spec"]["replicas"].intValue ?? 1)
        let minAvailable = wanted - bounds(deployment).unavailable
        let newUnavailable = new.map { max(0, replicas($0) - available($0)) } ?? 0
        let total = all.reduce(0) { $0 + replicas($1) }
        return total - minAvailable - newUnavailable
    }

    /// First step of shrinking old ReplicaSets: take away their unavailable pods (they serve nothing), oldest
    /// ReplicaSet first, within `budget`. Returns the new sizes by index into `old`.
    public static func cleanUpUnhealthy(old: [JSONValue], budget: Int) -> [Int: Int] {
        var changes: [Int: Int] = [:]
        var taken = 0
        for (index, rs) in old.enumerated() where taken < budget {
            let size = replicas(rs)
            guard size > 0, size > available(rs) else { continue }
            let down = min(budget - taken, size - available(rs))
            changes[index] = size - down
            taken += down
        }
        return changes
    }

    /// Second step: scale old ReplicaSets down, oldest first, while more than `replicas - maxUnavailable` pods are
    /// available in all ReplicaSets together.
    public static func scaleDownOld(_ deployment: JSONValue, all: [JSONValue], old: [JSONValue]) -> [Int: Int] {
        let wanted = Int(deployment["spec"]["replicas"].intValue ?? 1)
        let minAvailable = wanted - bounds(deployment).unavailable
        let availableNow = all.reduce(0) { $0 + available($1) }
        var remaining = availableNow - minAvailable
        var changes: [Int: Int] = [:]
        for (index, rs) in old.enumerated() where remaining > 0 {
            let size = replicas(rs)
            guard size > 0 else { continue }
            let down = min(size, remaining)
            changes[index] = size - down
            remaining -= down
        }
        return changes
    }

    /// Sizes for a scaling event that is not a rollout (or a paused Deployment): one active ReplicaSet (or, with
    /// none, the newest) takes the whole count; several share the difference in proportion to their size.
    public static func proportionalSizes(_ deployment: JSONValue, active: [JSONValue], newest: JSONValue?) -> [String: Int] {
        let wanted = Int(deployment["spec"]["replicas"].intValue ?? 1)
        if active.count <= 1 {
            guard let target = active.first ?? newest else { return [:] }
            return [target.name: wanted]
        }
        let allowed = wanted + bounds(deployment).surge
        let current = active.reduce(0) { $0 + replicas($1) }
        var toAdd = allowed - current
        guard toAdd != 0, current > 0 else { return [:] }
        var sizes: [String: Int] = [:]
        let ordered = active.sorted { toAdd > 0 ? replicas($0) > replicas($1) : replicas($0) < replicas($1) }
        var distributed = 0
        for rs in ordered {
            let share = Int((Double(replicas(rs)) * Double(toAdd) / Double(current)).rounded())
            let bounded = toAdd > 0 ? min(share, toAdd - distributed) : max(share, toAdd - distributed)
            sizes[rs.name] = replicas(rs) + bounded
            distributed += bounded
        }
        toAdd -= distributed
        if toAdd != 0, let first = ordered.first { sizes[first.name] = max(0, (sizes[first.name] ?? replicas(first)) + toAdd) }
        return sizes.filter { $0.value >= 0 }
    }

    /// The annotations a Deployment's (new) ReplicaSet carries: the Deployment's own (minus the ones kept for
    /// itself), its revision, and the sizes it was scaled for.
    public static func replicaSetAnnotations(_ deployment: JSONValue, existing: [String: String], revision: Int64?) -> [String: String] {
        var annotations = existing
        for (key, value) in deployment.annotations where !notCopied.contains(key) { annotations[key] = value }
        if let revision {
            let old = existing[revisionAnnotation]
            if let old, let oldNumber = Int64(old), oldNumber < revision {
                let history = existing[revisionHistoryAnnotation].map { $0 + "," + old } ?? old
                annotations[revisionHistoryAnnotation] = history
            }
            if old.flatMap(Int64.init) ?? 0 < revision { annotations[revisionAnnotation] = String(revision) }
        }
        return annotations
    }

    public static func sizeAnnotations(_ deployment: JSONValue) -> [String: String] {
        let wanted = Int(deployment["spec"]["replicas"].intValue ?? 1)
        return [desiredReplicasAnnotation: String(wanted), maxReplicasAnnotation: String(wanted + bounds(deployment).surge)]
    }
}
