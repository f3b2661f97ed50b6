import Foundation
public import Logging
import TugAPI
public import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Evicts pods from nodes with NoExecute taints (Kubernetes' taint eviction controller): at once when a pod does
/// not tolerate a taint, after its smallest `tolerationSeconds` when it tolerates them for a while (300 s for the
/// not-ready/unreachable taints by default), never when it tolerates them for good. The pods' owners then replace
/// them on other nodes.
public final class TaintEvictionController: Controller {
    public let name = "taint-eviction"
    public let queue: WorkQueue<ObjectKey>
    let client: RESTClient
    let nodes: Informer
    let pods: Informer
    let events: EventRecorder
    let time: any TimeSource
    let logger: Logger

    public var informers: [Informer] { [nodes, pods] }

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
        queue = WorkQueue(name: "taint-eviction", time: time)
        events = EventRecorder(client: client, component: "taint-eviction-controller", logger: logger)
        nodes = informers.informer(.nodes)
        pods = informers.informer(.pods)
        pods.store.addIndex(Indexes.nodeName, Indexes.byNodeName)
        nodes.addHandler { [queue] event in
            if case .deleted = event { return }
            queue.add(ObjectKey(name: event.object.name))
        }
        pods.addHandler { [queue] event in
            guard case .added(let pod) = event, let node = pod["spec"]["nodeName"].stringValue, !node.isEmpty else {
                if case .updated(let old, let new) = event, old["spec"]["nodeName"] != new["spec"]["nodeName"],
                   let node = new["spec"]["nodeName"].stringValue { queue.add(ObjectKey(name: node)) }
                return
            }
            queue.add(ObjectKey(name: node))
        }
    }

    /// When `pod` must go because of `taints` (NoExecute only): now, later, or never (nil).
    public static func evictionTime(_ pod: JSONValue, taints: [JSONValue], now: Date) -> Date? {
        let tolerations = pod["spec"]["tolerations"].arrayValue ?? []
        var deadline: Date?
        for taint in taints where taint["effect"].stringValue == "NoExecute" {
            let matching = tolerations.filter { NodeSelection.tolerates([$0], taint: taint) }
            if matching.isEmpty { return now }
            // Forever if any matching toleration has no limit; else the smallest limit counts.
            guard matching.allSatisfy({ $0["tolerationSeconds"].intValue != nil }) else { continue }
            let seconds = matching.compactMap { $0["tolerationSeconds"].intValue }.min() ?? 0
            let since = taint["timeAdded"].stringValue.flatMap(KubeTime.parse) ?? now
            let due = since.addingTimeInterval(Double(max(0, seconds)))
            deadline = min(deadline ?? due, due)
        }
        return deadline
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let node = nodes.store.get(key) else { return .done }
        let taints = (node["spec"]["taints"].arrayValue ?? []).filter { $0["effect"].stringValue == "NoExecute" }
        guard !taints.isEmpty else { return .done }
        let now = time.now
        var next: Date?
        for var pod in pods.store.byIndex(Indexes.nodeName, key.name) where pod.deletionTimestamp == nil {
            guard let due = Self.evictionTime(pod, taints: taints, now: now) else { continue }
            if due > now {
                next = min(next ?? due, due)
                continue
            }
            pod.kind = "Pod"
            pod.apiVersion = "v1"
            events.record(pod, reason: "TaintManagerEviction", message: "Marking for deletion Pod \(pod.namespace)/\(pod.name)")
            try await client.delete(APIResource.pods.path(ObjectKey(pod)), uid: pod.uid)
            logger.info("evicted pod from tainted node", metadata: ["object": "\(ObjectKey(pod))", "node": "\(key.name)"])
        }
        if let next { return .requeueAfter(.milliseconds(Int64(next.timeIntervalSince(now) * 1000) + 10)) }
        return .done
    }
}
