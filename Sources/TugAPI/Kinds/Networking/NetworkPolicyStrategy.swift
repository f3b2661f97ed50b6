import Foundation
public import TugAPIMachinery

/// networking.k8s.io/v1 NetworkPolicy: upstream's defaults (policyTypes from the rules present, TCP for ports) and
/// validation (selectors, peers, ipBlocks, ports); `kubectl get` shows the pod selector.
public struct NetworkPolicyStrategy: DataStrategy {
    public init() {}

    static let protocols = ["TCP", "UDP", "SCTP"]
    static let policyTypes = ["Ingress", "Egress"]

    public func applyDefaults(_ object: inout JSONValue) {
        if object["spec"]["podSelector"].isNull { object["spec"]["podSelector"] = [:] }
        if object["spec"]["policyTypes"].isEmptyCollection {
            // Upstream's rule: Egress only when there are egress rules (`egress: []` alone leaves egress open).
            object["spec"]["policyTypes"] = (object["spec"]["egress"].arrayValue ?? []).isEmpty ? ["Ingress"] : ["Ingress", "Egress"]
        }
        for (direction, _) in [("ingress", "from"), ("egress", "to")] {
            guard var rules = object["spec"][direction].arrayValue else { continue }
            for r in rules.indices {
                guard var ports = rules[r]["ports"].arrayValue else { continue }
                for p in ports.indices where ports[p]["protocol"].isNull { ports[p]["protocol"] = "TCP" }
                rules[r]["ports"] = .array(ports)
            }
            object["spec"][direction] = .array(rules)
        }
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let spec = object["spec"]
        Self.validateSelector(spec["podSelector"], at: "spec.podSelector", into: &errors)
        for (i, type) in (spec["policyTypes"].arrayValue ?? []).enumerated() where !Self.policyTypes.contains(type.stringValue ?? "") {
            errors.append(FieldError(.notSupported(Self.policyTypes), field: "spec.policyTypes[\(i)]", value: type))
        }
        for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
            for (r, rule) in (spec[direction].arrayValue ?? []).enumerated() {
                let path = "spec.\(direction)[\(r)]"
                for (p, port) in (rule["ports"].arrayValue ?? []).enumerated() { Self.validatePort(port, at: "\(path).ports[\(p)]", into: &errors) }
                for (p, peer) in (rule[peers].arrayValue ?? []).enumerated() { Self.validatePeer(peer, at: "\(path).\(peers)[\(p)]", into: &errors) }
            }
        }
        return errors
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList { validate(object) }

    public var columns: [TableColumn] { [.name, TableColumn("Pod-Selector"), .age] }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name), Cells.selector(object["spec"]["podSelector"]), TableColumn.age(object, now: now)]
    }

    static func validateSelector(_ selector: JSONValue, at path: String, into errors: inout FieldErrorList) {
        guard !selector.isNull else { return }
        do { _ = try LabelSelector.from(selector) } catch { errors.invalid(path, selector, "\(error)") }
    }

    static func validatePeer(_ peer: JSONValue, at path: String, into errors: inout FieldErrorList) {
        let selectors = ["podSelector", "namespaceSelector"].filter { !peer[$0].isNull }
        if peer["ipBlock"].isNull, selectors.isEmpty {
            errors.required(path, "must specify a peer")
        } else if !peer["ipBlock"].isNull, !selectors.isEmpty {
            errors.append(FieldError(.forbidden, field: path, detail: "may not specify both ipBlock and another peer"))
        }
        for name in selectors { validateSelector(peer[name], at: "\(path).\(name)", into: &errors) }
        guard !peer["ipBlock"].isNull else { return }
        let block = peer["ipBlock"]
        guard let text = block["cidr"].stringValue, !text.isEmpty else {
            errors.required("\(path).ipBlock.cidr")
            return
        }
        guard let cidr = CIDR(text) else {
            errors.invalid("\(path).ipBlock.cidr", block["cidr"], "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
            return
        }
        for (e, value) in (block["except"].arrayValue ?? []).enumerated() {
            let field = "\(path).ipBlock.except[\(e)]"
            guard let except = value.stringValue.flatMap(CIDR.init) else {
                errors.invalid(field, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
                continue
            }
            if !cidr.contains(except) || except.prefixLength <= cidr.prefixLength {
                errors.invalid(field, value, "must be a strict subset of `cidr`")
            }
        }
    }

    /// IANA_SVC_NAME: at most 15 lower-case letters, digits and single inner hyphens, with at least one letter.
    static func isPortName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...15).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-"), !name.contains("--") else { return false }
        let letter = { (b: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) }
        let digit = { (b: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        return bytes.allSatisfy { letter($0) || digit($0) || $0 == UInt8(ascii: "-") } && bytes.contains(where: letter)
    }

    static func validatePort(_ port: JSONValue, at path: String, into errors: inout FieldErrorList) {
        if let proto = port["protocol"].stringValue, !protocols.contains(proto) {
            errors.append(FieldError(.notSupported(protocols), field: "\(path).protocol", value: port["protocol"]))
        }
        let number = port["port"].intValue
        if let number, !(1...65535).contains(number) {
            errors.invalid("\(path).port", port["port"], "must be between 1 and 65535, inclusive")
        } else if let name = port["port"].stringValue, !Self.isPortName(name) {
            errors.invalid("\(path).port", port["port"], "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        guard let end = port["endPort"].intValue else { return }
        if port["port"].stringValue != nil {
            errors.append(FieldError(.forbidden, field: "\(path).endPort", detail: "may not be specified when `port` is non-numeric"))
        } else if number == nil {
            errors.append(FieldError(.forbidden, field: "\(path).endPort", detail: "may not be specified when `port` is not specified"))
        } else if let number, end < number {
            errors.invalid("\(path).endPort", port["endPort"], "must be greater than or equal to `port`")
        }
    }
}
