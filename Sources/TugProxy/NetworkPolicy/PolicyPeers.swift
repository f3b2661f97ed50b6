import TugAPIMachinery

/// What one NetworkPolicy rule allows, as pod-chain rules: each peer (pods by namespace and pod selectors, or an
/// ipBlock) times each port (numbered, a range with endPort, or a named container port of the pod that receives).
struct PolicyPeers {
    let pods: [PolicyPod]
    let namespaceLabels: [String: [String: String]]
    /// The pods each peer selects (by policy, direction, rule and peer): the same for every local pod a policy
    /// selects, so the cluster's pods are matched against a peer once per render.
    var selections: [String: [PolicyPod]] = [:]

    init(pods: [PolicyPod], namespaceLabels: [String: [String: String]]) {
        self.pods = pods
        self.namespaceLabels = namespaceLabels
    }

    /// Rules that RETURN (allow) what `rule` of `policy` lets through for `pod`; an ipBlock with excepts gets a
    /// chain of its own (`subchain(peerIndex)`), which marks what it allows.
    mutating func allow(_ rule: JSONValue, direction: PolicyDirection, pod: PolicyPod, policy: JSONValue, ruleIndex index: Int,
                        subchain: (Int) -> String, into filter: inout RuleSet.Table) -> [String] {
        let comment = "-m comment --comment \"\(policy.namespace)/\(policy.name)\""
        let ports = rule["ports"].arrayValue ?? []
        let peers = rule[direction.peers].arrayValue ?? []
        // Named ports are the receiving pod's: the selected pod for ingress, the peer pod for egress.
        let ownPorts = direction == .ingress ? Self.matches(ports, target: pod) : Self.matches(ports, target: nil)
        guard !peers.isEmpty else { return ownPorts.map { join(comment, $0, "-j RETURN") } }
        var out: [String] = []
        for (position, peer) in peers.enumerated() {
            let block = peer["ipBlock"]
            if !block.isNull {
                guard let cidr = block["cidr"].stringValue.flatMap(CIDR.init), cidr.isIPv4 else { continue }
                let excepts = (block["except"].arrayValue ?? []).compactMap { $0.stringValue.flatMap(CIDR.init) }.filter(\.isIPv4)
                if excepts.isEmpty {
                    out += ownPorts.map { join(comment, "\(direction.peerMatch) \(cidr)", $0, "-j RETURN") }
                } else {
                    let chain = subchain(position)
                    filter.chains[chain] = excepts.map { "\(direction.peerMatch) \($0) -j RETURN" }
                        + ownPorts.map { join("\(direction.peerMatch) \(cidr)", $0, "-j MARK --set-xmark \(PolicyRules.allowMark)") }
                    out += [join(comment, "-j \(chain)"), join(comment, "-m mark --mark \(PolicyRules.allowMark) -j RETURN")]
                }
                continue
            }
            let key = "\(policy["metadata"]["uid"].stringValue ?? policy.namespace + "/" + policy.name)/\(direction.tag)/\(index)/\(position)"
            if selections[key] == nil { selections[key] = selected(by: peer, policyNamespace: policy.namespace) }
            for other in selections[key] ?? [] {
                let portMatches = direction == .ingress ? ownPorts : Self.matches(ports, target: other)
                out += portMatches.map { join(comment, "\(direction.peerMatch) \(other.ip)/32", $0, "-j RETURN") }
            }
        }
        return out
    }

    /// The pods a selector peer names: podSelector alone means the policy's namespace; with a namespaceSelector,
    /// the namespaces it matches (an empty selector matches all).
    func selected(by peer: JSONValue, policyNamespace: String) -> [PolicyPod] {
        let podSelector = PolicyRules.selector(peer["podSelector"])
        let namespaceSelector = PolicyRules.selector(peer["namespaceSelector"])
        if !peer["podSelector"].isNull, podSelector == nil { return [] }
        if !peer["namespaceSelector"].isNull, namespaceSelector == nil { return [] }
        return pods.filter { other in
            let namespaceMatches = peer["namespaceSelector"].isNull
                ? other.namespace == policyNamespace
                : namespaceSelector!.matches(namespaceLabels[other.namespace] ?? ["kubernetes.io/metadata.name": other.namespace])
            return namespaceMatches && (podSelector?.matches(other.labels) ?? true)
        }
    }

    /// iptables matches for a rule's ports ([""]: any port); a named port resolves on `target` or matches nothing.
    static func matches(_ ports: [JSONValue], target: PolicyPod?) -> [String] {
        guard !ports.isEmpty else { return [""] }
        return ports.compactMap { port in
            let proto = (port["protocol"].stringValue ?? "TCP").lowercased()
            if port["port"].isNull { return "-p \(proto)" }
            if let number = port["port"].intValue {
                if let end = port["endPort"].intValue, end > number { return "-p \(proto) -m \(proto) --dport \(number):\(end)" }
                return "-p \(proto) -m \(proto) --dport \(number)"
            }
            guard let name = port["port"].stringValue, let (named, number) = target?.ports[name], named.lowercased() == proto else { return nil }
            return "-p \(proto) -m \(proto) --dport \(number)"
        }
    }

    func join(_ parts: String...) -> String {
        parts.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
