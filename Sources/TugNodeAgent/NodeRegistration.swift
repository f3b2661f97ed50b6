import Foundation
import Logging
import TugAPIMachinery
import TugClient
import TugRuntime

/// Registers the Node, keeps its Lease renewed every 10 s (what keeps it Ready to the control plane) and posts
/// node status when it changes, or every minute at least.
struct NodeRegistration: Sendable {
    let configuration: AgentConfiguration
    let nodeIP: String
    let client: RESTClient
    let images: ImageStore
    let logger: Logger

    var facts: HostFacts { HostFacts.read(dataDir: configuration.root) }

    func nodeObject() -> JSONValue {
        let architecture = facts.architecture
        var labels: JSONObject = [
            "kubernetes.io/hostname": .string(configuration.nodeName), "kubernetes.io/os": "linux",
            "kubernetes.io/arch": .string(architecture), "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": .string(architecture),
        ]
        for (key, value) in configuration.labels { labels[key] = .string(value) }
        var spec: JSONValue = ["podCIDR": .string(configuration.podCIDR), "podCIDRs": [.string(configuration.podCIDR)]]
        let taints = configuration.taints.compactMap(Self.parseTaint)
        if !taints.isEmpty { spec["taints"] = .array(taints) }
        return ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(configuration.nodeName), "labels": .object(labels)], "spec": spec]
    }

    /// `key=value:NoSchedule`, `key:NoExecute`.
    static func parseTaint(_ text: String) -> JSONValue? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let effect = String(text[text.index(after: colon)...])
        let pair = text[..<colon].split(separator: "=", maxSplits: 1).map(String.init)
        guard let key = pair.first, ["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(effect) else { return nil }
        var taint: JSONValue = ["key": .string(key), "effect": .string(effect)]
        if pair.count == 2 { taint["value"] = .string(pair[1]) }
        return taint
    }

    func status(now: String, previous: JSONValue) -> JSONValue {
        let facts = self.facts
        let quantities: JSONValue = ["cpu": .string(String(facts.cpus)), "memory": .string("\(facts.memoryBytes / 1024)Ki"),
                                     "pods": .string(String(configuration.maxPods)), "ephemeral-storage": .string("\(facts.ephemeralStorageBytes / 1024)Ki")]
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            let old = (previous["conditions"].arrayValue ?? []).first { $0["type"].stringValue == type }
            let transition = old?["status"].stringValue == status ? old!["lastTransitionTime"] : .string(now)
            return ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
                    "lastHeartbeatTime": .string(now), "lastTransitionTime": transition]
        }
        let imageList: [JSONValue] = ((try? images.list()) ?? []).map { image in
            ["names": [.string(image.reference), .string("\(ImageReference.repository(of: image.reference))@\(image.manifest)")],
             "sizeBytes": .int((try? images.imageSize(image.manifest)) ?? 0)]
        }
        return [
            "capacity": quantities, "allocatable": quantities,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [["type": "InternalIP", "address": .string(nodeIP)], ["type": "Hostname", "address": .string(facts.hostname)]],
            "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(configuration.port))]],
            "nodeInfo": [
                "machineID": .string(facts.machineID), "systemUUID": .string(facts.systemUUID), "bootID": .string(facts.bootID),
                "kernelVersion": .string(facts.kernelVersion), "osImage": .string(facts.osImage),
                "containerRuntimeVersion": .string("tug://\(AgentVersion.runtime)"), "kubeletVersion": .string(AgentVersion.kubelet),
                "kubeProxyVersion": .string(AgentVersion.kubelet), "operatingSystem": "linux", "architecture": .string(facts.architecture),
            ],
            "images": .array(imageList),
        ]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Creates the Node if needed (or updates labels, taints and podCIDR of an existing one), then posts status.
    func register() async throws {
        let path = "/api/v1/nodes/\(configuration.nodeName)"
        var existing = try await client.request(.GET, path)
        if existing.status == 404 {
            let created = try await client.request(.POST, "/api/v1/nodes", body: nodeObject())
            guard created.status == 201 || created.status == 409 else {
                throw Failure(description: "register node \(configuration.nodeName): HTTP \(created.status): \(created.json["message"].stringValue ?? "")")
            }
            existing = try await client.request(.GET, path)
        } else if existing.status == 200 {
            let wanted = nodeObject()
            let patch: JSONValue = ["metadata": ["labels": wanted["metadata"]["labels"]], "spec": wanted["spec"]]
            _ = try await client.request(.PATCH, path, body: patch, contentType: "application/merge-patch+json")
        } else {
            throw Failure(description: "get node \(configuration.nodeName): HTTP \(existing.status)")
        }
        try await postStatus(previous: existing.json["status"])
    }

    func postStatus(previous: JSONValue) async throws {
        let body: JSONValue = ["status": status(now: KubeTime.format(Date()), previous: previous)]
        let response = try await client.request(.PATCH, "/api/v1/nodes/\(configuration.nodeName)/status", body: body, contentType: "application/merge-patch+json")
        guard response.status == 200 else { throw Failure(description: "node status: HTTP \(response.status)") }
    }

    /// Renews `kube-node-lease/<node>` every quarter of the lease duration (10 s by default); posts node status every minute, or at once when the node lifecycle
    /// controller marked the node unreachable (its Ready condition is no longer True). Runs until cancelled.
    func heartbeat() async {
        var lastStatus = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await renewLease()
                let node = try await client.request(.GET, "/api/v1/nodes/\(configuration.nodeName)")
                let ready = (node.json["status"]["conditions"].arrayValue ?? []).first { $0["type"].stringValue == "Ready" }?["status"].stringValue
                if node.status == 404 {
                    try await register()
                    lastStatus = ContinuousClock.now
                } else if ready != "True" || ContinuousClock.now - lastStatus >= .seconds(60) {
                    try await postStatus(previous: node.json["status"])
                    lastStatus = ContinuousClock.now
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("node heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(configuration.leaseDurationSeconds * 250))
        }
    }

    func renewLease() async throws {
        let path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/\(configuration.nodeName)"
        let now = KubeTime.formatMicro(Date())
        let spec: JSONValue = ["holderIdentity": .string(configuration.nodeName), "leaseDurationSeconds": .int(configuration.leaseDurationSeconds),
                               "renewTime": .string(now)]
        let patched = try await client.request(.PATCH, path, body: ["spec": spec], contentType: "application/merge-patch+json")
        if patched.status == 404 {
            let lease: JSONValue = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                    "metadata": ["name": .string(configuration.nodeName), "namespace": "kube-node-lease",
                                                 "ownerReferences": [["apiVersion": "v1", "kind": "Node", "name": .string(configuration.nodeName),
                                                                      "uid": .string(try await nodeUID())]]],
                                    "spec": spec]
            let created = try await client.request(.POST, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", body: lease)
            guard created.status == 201 || created.status == 409 else { throw Failure(description: "create lease: HTTP \(created.status)") }
        } else if patched.status != 200 {
            throw Failure(description: "renew lease: HTTP \(patched.status)")
        }
    }

    func nodeUID() async throws -> String {
        try await client.request(.GET, "/api/v1/nodes/\(configuration.nodeName)").json["metadata"]["uid"].stringValue ?? ""
    }
}

public enum AgentVersion {
    public static let kubelet = "v1.32.0+tug"
    public static let runtime = "0.1.0"
}
