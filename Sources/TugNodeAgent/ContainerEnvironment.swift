import TugAPIMachinery

/// A container's environment as the kubelet builds it: image env, then `envFrom`, then `env` (later wins), with
/// `$(VAR)` references expanded against what is already defined, plus the `kubernetes` service variables.
struct ContainerEnvironment {
    /// A value a container refers to that could not be resolved (CreateContainerConfigError).
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Looks up ConfigMap and Secret data: `(kind, namespace, name) -> data` (Secret values already decoded).
    typealias DataLookup = (_ kind: String, _ name: String) async throws -> [String: String]?

    let pod: JSONValue
    let lookup: DataLookup
    let hostIP: String
    let podIP: String?

    func build(container: JSONValue, imageEnv: [String], serviceEnv: [(String, String)]) async throws -> [(String, String)] {
        var result: [(String, String)] = []
        func set(_ name: String, _ value: String) {
            if let index = result.firstIndex(where: { $0.0 == name }) { result[index].1 = value } else { result.append((name, value)) }
        }
        for entry in imageEnv {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            set(String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        for (name, value) in serviceEnv { set(name, value) }
        for source in container["envFrom"].arrayValue ?? [] {
            let prefix = source["prefix"].stringValue ?? ""
            for (kind, key) in [("ConfigMap", "configMapRef"), ("Secret", "secretRef")] where source[key] != .null {
                let name = source[key]["name"].stringValue ?? ""
                guard let data = try await lookup(kind, name) else {
                    if source[key]["optional"].boolValue == true { continue }
                    throw Missing(description: "\(kind.lowercased()) \"\(name)\" not found")
                }
                for (k, v) in data.sorted(by: { $0.key < $1.key }) { set(prefix + k, v) }
            }
        }
        for variable in container["env"].arrayValue ?? [] {
            guard let name = variable["name"].stringValue else { continue }
            if let value = variable["value"].stringValue {
                let defined = Dictionary(result, uniquingKeysWith: { _, last in last })
                set(name, Self.expand(value, with: defined))
            } else if variable["valueFrom"] != .null {
                if let value = try await valueFrom(variable["valueFrom"], container: container) { set(name, value) }
            } else {
                set(name, "")
            }
        }
        return result
    }

    func valueFrom(_ source: JSONValue, container: JSONValue) async throws -> String? {
        if source["fieldRef"] != .null {
            return fieldValue(source["fieldRef"]["fieldPath"].stringValue ?? "")
        }
        if source["resourceFieldRef"] != .null {
            return resourceValue(source["resourceFieldRef"], container: container)
        }
        for (kind, key) in [("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")] where source[key] != .null {
            let name = source[key]["name"].stringValue ?? ""
            let item = source[key]["key"].stringValue ?? ""
            let optional = source[key]["optional"].boolValue == true
            guard let data = try await lookup(kind, name) else {
                if optional { return nil }
                throw Missing(description: "\(kind.lowercased()) \"\(name)\" not found")
            }
            guard let value = data[item] else {
                if optional { return nil }
                throw Missing(description: "couldn't find key \(item) in \(kind) \(pod["metadata"]["namespace"].stringValue ?? "")/\(name)")
            }
            return value
        }
        return nil
    }

    /// The downward API's field paths (shared with downwardAPI volumes).
    func fieldValue(_ path: String) -> String? {
        let metadata = pod["metadata"]
        switch path {
        case "metadata.name": return metadata["name"].stringValue
        case "metadata.namespace": return metadata["namespace"].stringValue
        case "metadata.uid": return metadata["uid"].stringValue
        case "spec.nodeName": return pod["spec"]["nodeName"].stringValue
        case "spec.serviceAccountName": return pod["spec"]["serviceAccountName"].stringValue
        case "status.hostIP": return hostIP
        case "status.hostIPs": return hostIP
        case "status.podIP", "status.podIPs": return podIP ?? ""
        case "metadata.labels", "metadata.annotations":
            let map = metadata[path == "metadata.labels" ? "labels" : "annotations"].objectValue ?? [:]
            return map.keys.sorted().map { "\($0)=\"\(map[$0]?.stringValue ?? "")\"" }.joined(separator: "\n")
        default:
            for (prefix, key) in [("metadata.labels['", "labels"), ("metadata.annotations['", "annotations")] where path.hasPrefix(prefix) && path.hasSuffix("']") {
                let name = String(path.dropFirst(prefix.count).dropLast(2))
                return metadata[key][name].stringValue ?? ""
            }
            return nil
        }
    }

    /// `limits.cpu`, `requests.memory`…, divided by the divisor (default 1), rounded up as the kubelet does.
    func resourceValue(_ ref: JSONValue, container: JSONValue) -> String? {
        let resource = ref["resource"].stringValue ?? ""
        let parts = resource.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        var target = container
        if let name = ref["containerName"].stringValue, !name.isEmpty {
            target = (pod["spec"]["containers"].arrayValue ?? []).first { $0["name"].stringValue == name } ?? container
        }
        // An unset divisor is "0" on the wire (client-go's zero Quantity) and means 1, as in the kubelet.
        let given = ref["divisor"].stringValue.flatMap(Quantity.parse)
        let divisor = given.flatMap { $0.milliValue > 0 ? $0.milliValue : nil } ?? 1000
        guard let quantity = target["resources"][parts[0]][parts[1]].stringValue.flatMap(Quantity.parse) else {
            // No limit: the node's allocatable would apply; report 0 for requests and leave limits to the caller.
            return parts[0] == "requests" ? "0" : nil
        }
        return String(Quantity.saturating((quantity.milliValue / divisor).rounded(.up)))
    }

    /// `$(VAR)` expands when VAR is defined, `$$` is a literal `$`, anything else stays as written.
    static func expand(_ text: String, with variables: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "$", next < text.endIndex {
                if text[next] == "$" {
                    output.append("$")
                    index = text.index(after: next)
                    continue
                }
                if text[next] == "(", let close = text[next...].firstIndex(of: ")") {
                    let name = String(text[text.index(after: next)..<close])
                    if let value = variables[name] {
                        output += value
                    } else {
                        output += text[index...close]
                    }
                    index = text.index(after: close)
                    continue
                }
            }
            output.append(character)
            index = next
        }
        return output
    }
}
