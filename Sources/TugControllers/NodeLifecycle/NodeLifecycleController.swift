import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TugAPIMachinery
import TugClient

/// The node lifecycle controller's health half: a node whose Lease has not been renewed for the grace period (40 s,
/// kube-controller-manager's node-monitor-grace-period) gets its conditions set to `Unknown` ("Kubelet stopped posting
/// node status.") and the `node.kubernetes.io/unreachable:NoSchedule` taint; both go when its agent is back.
/// (Evicting pods from unreachable nodes belongs to the workload controllers.)
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
            let tainted = (node["spec"]["taints"].arrayValue ?? []).contains { $0["key"].stringValue == Self.unreachable }
            let readyStatus = Self.readyCondition(node)?["status"].stringValue
            if stale, !tainted || readyStatus != "Unknown" {
                await markUnreachable(node, now: now)
            } else if !stale, tainted, readyStatus == "True" {
                await clearUnreachable(node)
            }
        }
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
        var taints = (node["spec"]["taints"].arrayValue ?? []).filter { $0["key"].stringValue != Self.unreachable }
        taints.append(["key": .string(Self.unreachable), "effect": "NoSchedule", "timeAdded": .string(time)])
        _ = try? await client.request(.PATCH, "/api/v1/nodes/\(name)/status", body: ["status": ["conditions": .array(conditions)]],
                                      contentType: "application/merge-patch+json")
        _ = try? await client.request(.PATCH, "/api/v1/nodes/\(name)", body: ["spec": ["taints": .array(taints)]],
                                      contentType: "application/merge-patch+json")
        logger.info("node unreachable: its lease was not renewed", metadata: ["node": "\(name)"])
    }

    func clearUnreachable(_ node: JSONValue) async {
        let name = node["metadata"]["name"].stringValue ?? ""
        let taints = (node["spec"]["taints"].arrayValue ?? []).filter { $0["key"].stringValue != Self.unreachable }
        _ = try? await client.request(.PATCH, "/api/v1/nodes/\(name)", body: ["spec": ["taints": .array(taints)]],
                                      contentType: "application/merge-patch+json")
        logger.info("node reachable again", metadata: ["node": "\(name)"])
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
