import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TugAPIMachinery
import TugClient

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
    private let nodes = ObjectsByName()
    private let leases = ObjectsByName()
    /// Per node: the last renewTime seen and when this controller saw it change. Staleness is measured on this
    /// machine's clock from that moment, as kube-controller-manager does, so skew between machines does not matter.
    private let observed = Mutex<[String: (renewTime: String, at: Date)]>([:])
    static let unreachable = "node.kubernetes.io/unreachable"
    static let notReady = "node.kubernetes.io/not-ready"

    public init(client: RESTClient, logger: Logger, gracePeriod: Duration = .seconds(40), interval: Duration = .seconds(5)) {
        self.client = client
        self.logger = logger
        self.gracePeriod = gracePeriod
        self.interval = interval
    }

    public func run() async throws {
        let loops = [
            Task { [nodes] in await Reflector(client: client, path: "/api/v1/nodes", logger: logger).run { nodes.apply($0) } },
            Task { [leases] in
                await Reflector(client: client, path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", logger: logger).run {
                    leases.apply($0)
                }
            },
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    await check(now: Date())
                }
            },
        ]
        try? await gracefulShutdown()
        loops.forEach { $0.cancel() }
        for loop in loops { await loop.value }
    }

    /// Marks every node whose lease (or, without one, whose Ready heartbeat) is older than the grace period, and
    /// clears the mark from nodes that came back.
    func check(now: Date) async {
        let nodes = self.nodes.all, leases = self.leases.all
        for (name, node) in nodes {
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

/// A reflector's view of one collection, by name.
final class ObjectsByName: Sendable {
    private let objects = Mutex<[String: JSONValue]>([:])

    var all: [String: JSONValue] { objects.withLock { $0 } }

    func apply(_ event: Reflector.Event) {
        objects.withLock { objects in
            switch event {
            case .replace(let all): objects = Dictionary(all.map { ($0["metadata"]["name"].stringValue ?? "", $0) }, uniquingKeysWith: { _, b in b })
            case .added(let o), .modified(let o): objects[o["metadata"]["name"].stringValue ?? ""] = o
            case .deleted(let o): objects[o["metadata"]["name"].stringValue ?? ""] = nil
            }
        }
    }
}
