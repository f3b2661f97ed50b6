public import Foundation
public import TugAPIMachinery

/// How a Job reads its pods: which finished and how, which index each holds (Indexed mode), and the back-off
/// before replacing failed ones (kube's job controller rules, without pod failure policies).
public enum JobPods {
    public static let trackingFinalizer = "batch.kubernetes.io/job-tracking"
    public static let indexAnnotation = "batch.kubernetes.io/job-completion-index"

    public enum Outcome: Equatable { case running, succeeded, failed }

    /// A pod counts as failed when it failed, or was deleted before it finished.
    public static func outcome(_ pod: JSONValue) -> Outcome {
        switch pod["status"]["phase"].stringValue {
        case "Succeeded": .succeeded
        case "Failed": .failed
        default: pod.deletionTimestamp != nil ? .failed : .running
        }
    }

    public static func index(_ pod: JSONValue) -> Int? {
        pod.annotations[indexAnnotation].flatMap { Int($0) }
    }

    /// "0-2,4,6-7" for the indexes given (status.completedIndexes).
    public static func intervals(_ indexes: Set<Int>) -> String {
        var parts: [String] = []
        var sorted = indexes.sorted()[...]
        while let first = sorted.popFirst() {
            var last = first
            while sorted.first == last + 1 { last = sorted.popFirst()! }
            parts.append(first == last ? "\(first)" : "\(first)-\(last)")
        }
        return parts.joined(separator: ",")
    }

    public static func parseIntervals(_ text: String) -> Set<Int> {
        var out = Set<Int>()
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 { out.insert(bounds[0]) } else if bounds.count == 2, bounds[0] <= bounds[1] { out.formUnion(bounds[0]...bounds[1]) }
        }
        return out
    }

    /// When a pod finished (its containers' latest finishedAt), for the replacement back-off.
    public static func finishedAt(_ pod: JSONValue) -> Date? {
        (pod["status"]["containerStatuses"].arrayValue ?? []).compactMap { $0["state"]["terminated"]["finishedAt"].stringValue.flatMap(KubeTime.parse) }.max()
    }

    /// The delay before another pod may start after `failures` failures: 10 s doubling, at most 6 minutes.
    public static func backoff(failures: Int) -> TimeInterval {
        guard failures > 0 else { return 0 }
        return min(360, 10 * pow(2, Double(min(failures - 1, 10))))
    }
}
