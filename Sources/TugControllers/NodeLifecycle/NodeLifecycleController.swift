import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// The node lifecycle controller's health half: a node whose Lease has not been renewed for the grace period (40 s,
/// kube-controller-manager's node-monitor-grace-period) gets its conditions set to `Unknown` ("Kubelet stopped posting
/// node status.") and the `node.kubernetes.io/unreachable` taints (NoSchedule and NoExecute); a node whose agent
/// reports Ready=False gets the `node.kubernetes.io/not-ready` ones. They go when the node is Ready again. The
/// NoExecute taints are what `TaintEvictionController` evicts pods for.
public final class NodeLifecycleController: Service, Sendable {
    let client: RESTClient
    let logger: Logger
    let gracePeriod: Duration
    let interval: Duration
    let time: any TimeSource
    private let nodes: Informer
    private let leases: Informer
    static let leaseResource = APIResource(group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease")
    /// Per node: the last renewTime seen and when this controller saw it change. Staleness is measured on this
    /// machine's clock from that moment, as kube-controller-manager does, so skew between machines does not matter.
    private let observed = Mutex<[String: (renewTime: String, at: Date)]>([:])
    static let unreachable = "node.kubernetes.io/unreachable"
    static let notReady = "node.kubernetes.io/not-ready"

    public init(client: RESTClient, informers: InformerFactory, time: any TimeSource = SystemTime(), logger: Logger,
                gracePeriod: Duration = .seconds(40), interval: Duration = .seconds(5)) {
        self.client = client
        self.logger = logger
        self.gracePeriod = gracePeriod
        self.interval = interval
        self.time = time
        nodes = informers.informer(.nodes)
        leases = informers.informer(Self.leaseResource)
    }

    /// Every `interval`, once the caches are in, looks at every node's heartbeat.
    public func run() async throws {
        await nodes.waitForSync()
        await leases.waitForSync()
        await cancelWhenGracefulShutdown {
            while (try? await self.time.sleep(for: self.interval)) != nil {
                await self.check(now: self.time.now)
            }
        }
    }

    /// Marks every node whose lease (or, without one, whose Ready heartbeat) is older than the grace period, and
    /// clears the mark from nodes that came back.
    func check(now: Date) async {
        let leases = Dictionary(self.leases.store.list(namespace: "kube-node-lease").map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for node in nodes.store.list() {
            let name = node.name
            guard let heartbeat = leases[name]?["spec"]["renewTime"].stringValue
                    ?? Self.readyCondition(node)?["lastHeartbeatTime"].stringValue else { continue }
            let renewed = observed.withLock { observed -> Date in
                if let seen = observed[name], seen.renewTime == heartbeat { return seen.at }
                observed[name] = (heartbeat, now)
                return now
            }
            let stale = now.timeIntervalSince(renewed) > Double(gracePeriod.components.seconds)
            let readyStatus = Self.readyCondition(node)?["status"].stringValue
            if stale, !Self.hasTaints(node, Self.unreachable) || readyStatus != "Unknown" {
                await markUnreachable(node, now: now)
            } else if !stale, readyStatus == "True", Self.hasTaints(node, Self.unreachable, any: true) || Self.hasTaints(node, Self.notReady, any: true) {
                await setTaints(node, key: nil, now: now)
                logger.info("node ready again", metadata: ["node": "\(name)"])
            } else if !stale, readyStatus == "False", !Self.hasTaints(node, Self.notReady) {
                await setTaints(node, key: Self.notReady, now: now)
                logger.info("node not ready", metadata: ["node": "\(name)"])
            }
        }
    }

    /// Whether the node carries `key` with both effects (or, with `any`, with either).
    static func hasTaints(_ node: JSONValue, _ key: String, any: Bool = false) -> Bool {
        let effects = Set((node["spec"]["taints"].arrayValue ?? []).filter { $0["key"].stringValue == key }.compactMap { $0["effect"].stringValue })
        return any ? !effects.isEmpty : effects.isSuperset(of: ["NoSchedule", "NoExecute"])
    }

    /// Replaces the health taints with `key`'s NoSchedule and NoExecute pair (none when nil), keeping the others.
    func setTaints(_ node: JSONValue, key: String?, now: Date) async {
        let time = JSONValue.string(KubeTime.format(now))
        var taints = (node["spec"]["taints"].arrayValue ?? []).filter {
            let k = $0["key"].stringValue
            return k != Self.unreachable && k != Self.notReady
        }
        if let key {
            taints.append(["key": .string(key), "effect": "NoSchedule", "timeAdded": time])
            taints.append(["key": .string(key), "effect": "NoExecute", "timeAdded": time])
        }
        _ = try? await client.request(.PATCH, "/api/v1/nodes/\(node.name)", body: ["spec": ["taints": taints.isEmpty ? .null : .array(taints)]],
                                      contentType: "application/merge-patch+json")
    }

    static func readyCondition(_ node: JSONValue) -> JSONValue? {
        (node["status"]["conditions"].arrayValue ?? []).first { $0["type"].stringValue == "Ready" }
    }

    func markUnreachable(_ node: JSONValue, now: Date) async {
        let name = node["metadata"]["name"].stringValue ?? ""
        let time = KubeTime.format(now)
        let conditions: [JSONValue] = (node["status"]["conditions"].arrayValue ?? []).map { condition in
            var c = condition
            guard c["status"].stringValue != "Unknown" else { return c }
            c["status"] = "Unknown"
            c["reason"] = "NodeStatusUnknown"
            c["message"] = "Kubelet stopped posting node status."
            c["lastTransitionTime"] = .string(time)
            return c
        }
        _ = try? await client.request(.PATCH, "/api/v1/nodes/\(name)/status", body: ["status": ["conditions": .array(conditions)]],
                                      contentType: "application/merge-patch+json")
        await setTaints(node, key: Self.unreachable, now: now)
        logger.info("node unreachable: its lease was not renewed", metadata: ["node": "\(name)"])
    }

}
