import Foundation
import TugAPIMachinery

/// A pod as the scheduler reads it, parsed once per change: requests, ports, placement rules and priority.
///
/// A class, so the scheduler's tables hold one reference per pod: as a struct of some 300 bytes, held inline in
/// both the pods-by-UID table and its node's table (hash tables at most three-quarters full), it took 1.2 KB per
/// placed pod — 177 MB of the server's heap at 150,000 pods.
final class PodInfo: Sendable {
    struct HostPort: Hashable, Sendable {
        var proto: String
        var ip: String
        var port: Int64
    }

    /// A pod (anti-)affinity term: pods matching `selector` in `namespaces` (empty: the pod's own), counted per
    /// value of `topologyKey`.
    struct AffinityTerm: Sendable {
        /// nil (no labelSelector) matches no pod.
        var selector: LabelSelector?
        var namespaces: Set<String>
        var namespaceSelector: LabelSelector?
        var topologyKey: String
        var weight: Int64 = 0

        func matches(_ pod: PodInfo, namespaceLabels: (String) -> [String: String]) -> Bool {
            if let namespaceSelector {
                if !namespaces.contains(pod.namespace), !namespaceSelector.matches(namespaceLabels(pod.namespace)) { return false }
            } else if !namespaces.contains(pod.namespace) {
                return false
            }
            return selector?.matches(pod.label) ?? false
        }
    }

    struct SpreadConstraint: Sendable {
        var maxSkew: Int64
        var topologyKey: String
        var whenUnsatisfiable: String
        var selector: LabelSelector
        var minDomains: Int64?
    }

    let uid: String
    let namespace: String
    let name: String
    /// `metadata.labels` as decoded, shared with the informer's tree (and across a ReplicaSet's pods): a dictionary
    /// of its own per pod was 32 MB at 150,000 pods. Read one with `label(_:)`.
    let labels: JSONValue
    let nodeName: String
    let priority: Int64
    let preemptionPolicy: String
    let requests: Resources
    let hostPorts: [HostPort]
    let nodeSelector: [String: String]
    let requiredNodeTerms: [JSONValue]
    let preferredNodeTerms: [(weight: Int64, term: JSONValue)]
    let tolerations: [JSONValue]
    let affinity: [AffinityTerm]
    let antiAffinity: [AffinityTerm]
    let preferredAffinity: [AffinityTerm]
    let preferredAntiAffinity: [AffinityTerm]
    let spread: [SpreadConstraint]
    let schedulerName: String
    let terminal: Bool
    /// Its deletion was requested (from its `deletionTimestamp`, or by preemption before the watch says so).
    let deleting: Bool
    let created: String
    let nominatedNode: String
    /// The object itself, for status writes, events and bindings.
    let object: JSONValue

    init(_ pod: JSONValue, deleting: Bool = false) {
        object = pod
        let spec = pod["spec"]
        uid = pod.uid
        namespace = pod.namespace
        name = pod.name
        labels = pod["metadata"]["labels"]
        nodeName = spec["nodeName"].stringValue ?? ""
        priority = spec["priority"].intValue ?? 0
        preemptionPolicy = spec["preemptionPolicy"].stringValue ?? "PreemptLowerPriority"
        requests = Resources.requests(of: pod)
        var ports: [HostPort] = []
        for container in spec["containers"].arrayValue ?? [] {
            for port in container["ports"].arrayValue ?? [] {
                guard let hostPort = port["hostPort"].intValue, hostPort > 0 else { continue }
                ports.append(HostPort(proto: port["protocol"].stringValue ?? "TCP", ip: port["hostIP"].stringValue ?? "0.0.0.0", port: hostPort))
            }
        }
        hostPorts = ports
        nodeSelector = spec["nodeSelector"].stringMap
        let nodeAffinity = spec["affinity"]["nodeAffinity"]
        requiredNodeTerms = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"].arrayValue ?? []
        preferredNodeTerms = (nodeAffinity["preferredDuringSchedulingIgnoredDuringExecution"].arrayValue ?? []).map {
            ($0["weight"].intValue ?? 0, $0["preference"])
        }
        tolerations = spec["tolerations"].arrayValue ?? []
        let namespace = pod.namespace
        func terms(_ value: JSONValue, weighted: Bool) -> [AffinityTerm] {
            (value.arrayValue ?? []).compactMap { entry in
                let term = weighted ? entry["podAffinityTerm"] : entry
                let selector = term["labelSelector"].isNull ? nil : try? LabelSelector.from(term["labelSelector"])
                let listed = Set((term["namespaces"].arrayValue ?? []).compactMap(\.stringValue))
                let namespaceSelector = term["namespaceSelector"].isNull ? nil : try? LabelSelector.from(term["namespaceSelector"])
                return AffinityTerm(selector: selector,
                                    namespaces: listed.isEmpty && namespaceSelector == nil ? [namespace] : listed,
                                    namespaceSelector: namespaceSelector, topologyKey: term["topologyKey"].stringValue ?? "",
                                    weight: entry["weight"].intValue ?? 0)
            }
        }
        let podAffinity = spec["affinity"]["podAffinity"], podAntiAffinity = spec["affinity"]["podAntiAffinity"]
        affinity = terms(podAffinity["requiredDuringSchedulingIgnoredDuringExecution"], weighted: false)
        antiAffinity = terms(podAntiAffinity["requiredDuringSchedulingIgnoredDuringExecution"], weighted: false)
        preferredAffinity = terms(podAffinity["preferredDuringSchedulingIgnoredDuringExecution"], weighted: true)
        preferredAntiAffinity = terms(podAntiAffinity["preferredDuringSchedulingIgnoredDuringExecution"], weighted: true)
        spread = (spec["topologySpreadConstraints"].arrayValue ?? []).compactMap { c in
            guard let selector = try? LabelSelector.from(c["labelSelector"]) else { return nil }
            var matching = selector
            // matchLabelKeys: the pod's own values for these keys narrow the selector.
            for key in (c["matchLabelKeys"].arrayValue ?? []).compactMap(\.stringValue) {
                if let value = pod.labels[key] { matching.requirements.append(.init(key: key, op: .in, values: [value])) }
            }
            return SpreadConstraint(maxSkew: c["maxSkew"].intValue ?? 1, topologyKey: c["topologyKey"].stringValue ?? "",
                                    whenUnsatisfiable: c["whenUnsatisfiable"].stringValue ?? "DoNotSchedule", selector: matching,
                                    minDomains: c["minDomains"].intValue)
        }
        schedulerName = spec["schedulerName"].stringValue ?? "default-scheduler"
        let phase = pod["status"]["phase"].stringValue
        terminal = phase == "Succeeded" || phase == "Failed"
        self.deleting = deleting || pod.deletionTimestamp != nil
        created = pod.creationTimestamp ?? ""
        nominatedNode = pod["status"]["nominatedNodeName"].stringValue ?? ""
    }

    func label(_ key: String) -> String? { labels[key].stringValue }

    var hasPodAffinity: Bool { !affinity.isEmpty || !antiAffinity.isEmpty || !preferredAffinity.isEmpty || !preferredAntiAffinity.isEmpty }
    var key: String { "\(namespace)/\(name)" }
}
