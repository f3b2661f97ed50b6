import Foundation
import TugAPIMachinery
import TugRuntime

/// A pod's sandbox settings: hostname, `/etc/resolv.conf` by dnsPolicy and dnsConfig, hostAliases and hostPorts.
struct SandboxConfigBuilder {
    /// Cluster DNS server addresses (empty: no cluster DNS yet, ClusterFirst falls back to the host's resolver).
    let clusterDNS: [String]
    let clusterDomain: String
    let hostResolvConf: String
    /// The node's podPidsLimit, put on the pod's cgroup.
    var pidsLimit: Int64? = nil

    func build(pod: JSONValue, attempt: Int) -> SandboxConfig {
        let metadata = pod["metadata"]
        let spec = pod["spec"]
        let name = metadata["name"].stringValue ?? ""
        let hostname = String((spec["hostname"].stringValue ?? name).prefix(63))
        var config = SandboxConfig(podUID: metadata["uid"].stringValue ?? "", name: name, namespace: metadata["namespace"].stringValue ?? "default",
                                   attempt: attempt, hostname: hostname, resolvConf: resolvConf(pod))
        config.hostNetwork = spec["hostNetwork"].boolValue == true
        config.pidsLimit = pidsLimit
        config.hostAliases = (spec["hostAliases"].arrayValue ?? []).compactMap { alias in
            guard let ip = alias["ip"].stringValue else { return nil }
            let names = (alias["hostnames"].arrayValue ?? []).compactMap(\.stringValue)
            return names.isEmpty ? nil : "\(ip)\t\(names.joined(separator: "\t"))"
        }
        for container in spec["containers"].arrayValue ?? [] {
            for port in container["ports"].arrayValue ?? [] {
                guard let hostPort = port["hostPort"].intValue, hostPort > 0, let containerPort = port["containerPort"].intValue else { continue }
                config.portMappings.append(.init(hostPort: Int(hostPort), containerPort: Int(containerPort), proto: port["protocol"].stringValue ?? "TCP",
                                                 hostIP: port["hostIP"].stringValue))
            }
        }
        return config
    }

    func resolvConf(_ pod: JSONValue) -> String {
        let spec = pod["spec"]
        let namespace = pod["metadata"]["namespace"].stringValue ?? "default"
        let policy = spec["dnsPolicy"].stringValue ?? "ClusterFirst"
        let hostNetwork = spec["hostNetwork"].boolValue == true
        let host = Self.parse(hostResolvConf)
        var nameservers: [String]
        var searches: [String]
        var options: [String]
        let useCluster = !clusterDNS.isEmpty && (policy == "ClusterFirstWithHostNet" || (policy == "ClusterFirst" && !hostNetwork))
        switch policy {
        case "None":
            (nameservers, searches, options) = ([], [], [])
        case _ where useCluster:
            nameservers = clusterDNS
            searches = ["\(namespace).svc.\(clusterDomain)", "svc.\(clusterDomain)", clusterDomain] + host.searches
            options = ["ndots:5"]
        default:
            (nameservers, searches, options) = (host.nameservers, host.searches, host.options)
        }
        let dnsConfig = spec["dnsConfig"]
        nameservers += (dnsConfig["nameservers"].arrayValue ?? []).compactMap(\.stringValue)
        searches += (dnsConfig["searches"].arrayValue ?? []).compactMap(\.stringValue)
        for option in dnsConfig["options"].arrayValue ?? [] {
            guard let name = option["name"].stringValue else { continue }
            options.removeAll { $0 == name || $0.hasPrefix(name + ":") }
            options.append(option["value"].stringValue.map { "\(name):\($0)" } ?? name)
        }
        var seen = Set<String>()
        searches = searches.filter { seen.insert($0).inserted }
        var text = ""
        if !searches.isEmpty { text += "search \(searches.prefix(32).joined(separator: " "))\n" }
        for server in nameservers.prefix(3) { text += "nameserver \(server)\n" }
        if !options.isEmpty { text += "options \(options.joined(separator: " "))\n" }
        return text
    }

    static func parse(_ text: String) -> (nameservers: [String], searches: [String], options: [String]) {
        var result: ([String], [String], [String]) = ([], [], [])
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = fields.first, !keyword.hasPrefix("#") else { continue }
            switch keyword {
            case "nameserver": result.0 += fields.dropFirst()
            case "search", "domain": result.1 += fields.dropFirst()
            case "options": result.2 += fields.dropFirst()
            default: break
            }
        }
        return result
    }
}
