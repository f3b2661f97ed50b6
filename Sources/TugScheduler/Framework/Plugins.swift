/// Per-pod data plugins compute once (PreFilter/PreScore) and read for every node, keyed by the data's type.
struct CycleState: Sendable {
    private var storage: [ObjectIdentifier: any Sendable] = [:]

    subscript<T: Sendable>(_ type: T.Type) -> T? {
        get { storage[ObjectIdentifier(type)] as? T }
        set { storage[ObjectIdentifier(type)] = newValue }
    }
}

/// The extension points of the scheduling framework, one small protocol each (kube-scheduler's framework
/// interfaces). Plugins are value types; all state of a cycle lives in `CycleState`.
protocol SchedulerPlugin: Sendable {
    var name: String { get }
}

protocol PreFilterPlugin: SchedulerPlugin {
    /// Computes what `filter` needs for this pod from the whole cluster.
    func preFilter(_ state: inout CycleState, pod: PodInfo, cluster: ClusterState)
}

protocol FilterPlugin: SchedulerPlugin {
    /// Whether `filter` has anything to check for this pod, asked once per cycle after the pre-filters
    /// (kube-scheduler's PreFilter `Skip`): a plugin that answers no is not run on any node of the cycle.
    func filters(_ pod: PodInfo, state: CycleState) -> Bool
    func filter(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> PluginStatus
}

extension FilterPlugin {
    func filters(_ pod: PodInfo, state: CycleState) -> Bool { true }
}

protocol PreScorePlugin: SchedulerPlugin {
    func preScore(_ state: inout CycleState, pod: PodInfo, cluster: ClusterState)
}

protocol ScorePlugin: SchedulerPlugin {
    var weight: Int64 { get }
    /// Whether `score` can tell nodes apart for this pod, asked once per cycle after the pre-scores
    /// (kube-scheduler's PreScore `Skip`). Only a plugin that would give every node the same score may answer no:
    /// the same amount on every node changes no choice.
    func scores(_ pod: PodInfo, state: CycleState) -> Bool
    /// A raw score for the node; `normalize` maps the raw scores of all feasible nodes to 0…100.
    func score(_ state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64
    func normalize(_ scores: inout [Int64])
}

extension ScorePlugin {
    func scores(_ pod: PodInfo, state: CycleState) -> Bool { true }
    func normalize(_ scores: inout [Int64]) {}
}

enum ScoreNormalization {
    static let max: Int64 = 100

    /// Higher raw is better: scaled so the best node gets 100.
    static func byMaximum(_ scores: inout [Int64], reverse: Bool = false) {
        let top = scores.max() ?? 0
        guard top > 0 else {
            if reverse { for i in scores.indices { scores[i] = max } }
            return
        }
        for i in scores.indices {
            let scaled = scores[i] * max / top
            scores[i] = reverse ? max - scaled : scaled
        }
    }

    /// Raw scores may be negative: scaled so the worst is 0 and the best 100.
    static func byRange(_ scores: inout [Int64], reverse: Bool = false) {
        guard let low = scores.min(), let high = scores.max(), high > low else {
            for i in scores.indices { scores[i] = 0 }  // no node is preferred
            return
        }
        for i in scores.indices {
            let scaled = (scores[i] - low) * max / (high - low)
            scores[i] = reverse ? max - scaled : scaled
        }
    }
}
