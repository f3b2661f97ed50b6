import TugAPIMachinery

/// The filter rules that enforce NetworkPolicies for the pods of one node, as kube-router's firewall does: a
/// dispatch chain hooked into FORWARD sends traffic from each egress-isolated local pod to its egress chain and
/// traffic to each ingress-isolated local pod to its ingress chain; a pod chain RETURNs what any of its policies'
/// rules allows and rejects the rest. Established flows pass; traffic a pod chain never sees (pods no policy
/// selects, the node's own traffic to its pods) is not touched. Pods on other nodes are matched by address, so a
/// policy's peers span the cluster while each node enforces for its own pods.
public struct PolicyRules: Sendable {
    public let names: ChainNames
    public let nodeName: String

    /// Set by an ipBlock-with-except chain on a match, read back by the pod chain (kube-router's bit).
    static let markBit = "0x20000"
    static let allowMark = "\(markBit)/\(markBit)"

    public init(names: ChainNames, nodeName: String) {
        self.names = names
        self.nodeName = nodeName
    }

    var dispatch: String { "\(names.prefix)-FORWARD" }

    /// The rules for `policies` over `pods` (every pod of the cluster) and `namespaces`.
    public func render(policies: [JSONValue], pods: [JSONValue], namespaces: [JSONValue]) -> RuleSet {
        var filter = RuleSet.Table()
        filter.declare(dispatch)
        filter.unordered.insert(dispatch)
        filter.jumps = [.init(from: "FORWARD", rule: "-m comment --comment \"tug network policies\" -j \(dispatch)")]
        filter.append(dispatch, "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
        let labels = Dictionary(namespaces.map { ($0.name, Self.namespaceLabels($0)) }, uniquingKeysWith: { first, _ in first })
        let live = pods.compactMap(PolicyPod.init).sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        // Each policy's pod selector parsed once per render, not once per local pod.
        let sortedPolicies = policies.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
            .map { (policy: $0, selector: Self.selector($0["spec"]["podSelector"])) }
        var context = PolicyPeers(pods: live, namespaceLabels: labels)
        for pod in live where pod.node == nodeName {
            let selecting = sortedPolicies.filter { $0.policy.namespace == pod.namespace && $0.selector?.matches(pod.labels) == true }.map(\.policy)
            for direction in PolicyDirection.allCases {
                let applying = selecting.filter { direction.applies(to: $0) }
                guard !applying.isEmpty else { continue }
                let chain = "\(names.prefix)-\(direction.tag)-\(ChainNames.tag(pod.uid))"
                var rules = ["-j MARK --set-xmark 0x0/\(Self.markBit)"]
                for policy in applying {
                    for (index, rule) in (policy["spec"][direction.rules].arrayValue ?? []).enumerated() {
                        rules += context.allow(rule, direction: direction, pod: pod, policy: policy, ruleIndex: index,
                                               subchain: { peer in "\(names.prefix)-B-\(ChainNames.tag("\(pod.uid)/\(policy.uid)/\(direction.tag)/\(index)/\(peer)"))" },
                                               into: &filter)
                    }
                }
                rules.append("-m comment --comment \"\(pod.namespace)/\(pod.name) \(direction.rules) denied\" -p tcp -j REJECT --reject-with tcp-reset")
                rules.append("-m comment --comment \"\(pod.namespace)/\(pod.name) \(direction.rules) denied\" -j REJECT --reject-with icmp-port-unreachable")
                var seen = Set<String>()
                filter.chains[chain] = rules.filter { seen.insert($0).inserted }
                filter.append(dispatch, "\(direction.podMatch) \(pod.ip)/32 -j \(chain)")
            }
        }
        var set = RuleSet()
        set.tables["filter"] = filter
        return set
    }

    static func selector(_ json: JSONValue) -> LabelSelector? {
        json.isNull ? nil : try? LabelSelector.from(json)
    }

    /// A namespace's labels, with the `kubernetes.io/metadata.name` label the API server sets on every namespace.
    static func namespaceLabels(_ namespace: JSONValue) -> [String: String] {
        var labels = namespace["metadata"]["labels"].stringMap
        labels["kubernetes.io/metadata.name"] = namespace.name
        return labels
    }
}

/// Ingress (traffic to the selected pods, from peers) or egress (from them, to peers).
enum PolicyDirection: CaseIterable {
    case egress, ingress

    var rules: String { self == .ingress ? "ingress" : "egress" }
    var peers: String { self == .ingress ? "from" : "to" }
    var tag: String { self == .ingress ? "I" : "E" }
    /// How the dispatch chain picks the pod's own traffic, and how a rule matches the peer's side.
    var podMatch: String { self == .ingress ? "-d" : "-s" }
    var peerMatch: String { self == .ingress ? "-s" : "-d" }

    /// A policy is about egress when its policyTypes say so (or, unset, when it has egress rules); it is about
    /// ingress unless its policyTypes leave ingress out (the API server's defaulting, for objects stored without it).
    func applies(to policy: JSONValue) -> Bool {
        let types = (policy["spec"]["policyTypes"].arrayValue ?? []).compactMap(\.stringValue)
        if types.isEmpty { return self == .ingress || !(policy["spec"]["egress"].arrayValue ?? []).isEmpty }
        return types.contains(self == .ingress ? "Ingress" : "Egress")
    }
}

/// A pod with an address of its own (not hostNetwork, not finished), as the rules see it.
struct PolicyPod {
    let namespace: String
    let name: String
    let uid: String
    let node: String
    let ip: String
    let labels: [String: String]
    /// Container port name → (protocol, number), for named ports.
    let ports: [String: (String, Int64)]

    init?(_ pod: JSONValue) {
        guard let ip = pod["status"]["podIP"].stringValue, !ip.isEmpty, !ip.contains(":"), pod["spec"]["hostNetwork"].boolValue != true,
              !["Succeeded", "Failed"].contains(pod["status"]["phase"].stringValue ?? "") else { return nil }
        namespace = pod.namespace
        name = pod.name
        uid = pod["metadata"]["uid"].stringValue ?? "\(pod.namespace)/\(pod.name)"
        node = pod["spec"]["nodeName"].stringValue ?? ""
        self.ip = ip
        labels = pod["metadata"]["labels"].stringMap
        var ports: [String: (String, Int64)] = [:]
        for container in pod["spec"]["containers"].arrayValue ?? [] {
            for port in container["ports"].arrayValue ?? [] {
                guard let name = port["name"].stringValue, let number = port["containerPort"].intValue else { continue }
                ports[name] = (port["protocol"].stringValue ?? "TCP", number)
            }
        }
        self.ports = ports
    }
}
