import ArgumentParser
import Foundation
import TugAPIMachinery
import TugNodeAgent
import TugProxy

/// Node flags shared by `tug server` (its local node) and `tug agent`.
struct NodeOptions: ParsableArguments {
    @Option(help: "Name of this node (default: the hostname).")
    var nodeName: String?

    @Option(help: "IP address the node advertises (default: the address of the default route's interface).")
    var nodeIP: String?

    @Option(help: ArgumentHelp("A label for the node, key=value (repeatable).", valueName: "key=value"))
    var nodeLabel: [String] = []

    @Option(help: ArgumentHelp("A taint for the node, key=value:Effect (repeatable).", valueName: "taint"))
    var nodeTaint: [String] = []

    @Option(help: "The pod address range of this node.")
    var podCIDR = "10.42.0.0/24"

    @Option(help: "The pod address range of the whole cluster (traffic from outside it to a Service is masqueraded).")
    var clusterCidr = "10.42.0.0/16"

    @Option(help: "The cluster DNS address pods resolve with (default: the kube-dns Service's cluster IP).")
    var clusterDns: String?

    @Option(help: "Port of the node agent's endpoint (logs, exec), used by the API server.")
    var agentPort = 10250

    @Option(help: "Duration of the node's Lease in seconds; it is renewed every quarter of it.")
    var nodeLeaseDurationSeconds: Int64 = 40

    @Option(help: "Size at which a container log file is rotated (a quantity: 10Mi, 512Ki).")
    var containerLogMaxSize = "10Mi"

    @Option(help: "Log files kept per container, the current one included.")
    var containerLogMaxFiles = 5

    @Option(help: "The most processes one pod may run, its containers together (-1: no limit).")
    var podMaxPids: Int64 = -1

    @Flag(help: "Confine containers that name no seccomp profile with RuntimeDefault, as the kubelet's --seccomp-default.")
    var seccompDefault = false

    func configuration(dataDir: String) throws -> AgentConfiguration {
        let name = (nodeName ?? ProcessInfo.processInfo.hostName).lowercased()
        var configuration = AgentConfiguration(nodeName: name, root: "\(dataDir)/agent", imagesRoot: "\(dataDir)/images")
        configuration.nodeIP = nodeIP
        configuration.podCIDR = podCIDR
        configuration.port = agentPort
        configuration.taints = nodeTaint
        configuration.clusterDNS = clusterDns.map { [$0] } ?? []
        guard let size = Quantity.parse(containerLogMaxSize), size.milliValue >= 1_024_000 else {
            throw ValidationError("--container-log-max-size must be a quantity of at least 1Ki, got \"\(containerLogMaxSize)\"")
        }
        guard containerLogMaxFiles >= 1 else { throw ValidationError("--container-log-max-files must be at least 1") }
        configuration.containerLogMaxBytes = Int(size.milliValue / 1000)
        configuration.containerLogMaxFiles = containerLogMaxFiles
        guard nodeLeaseDurationSeconds >= 1 else { throw ValidationError("--node-lease-duration-seconds must be at least 1") }
        configuration.leaseDurationSeconds = nodeLeaseDurationSeconds
        guard podMaxPids == -1 || podMaxPids >= 1 else { throw ValidationError("--pod-max-pids must be -1 (no limit) or at least 1, got \(podMaxPids)") }
        configuration.podPidsLimit = podMaxPids == -1 ? nil : podMaxPids
        configuration.seccompDefault = seccompDefault
        for label in nodeLabel {
            let pair = label.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty else { throw ValidationError("--node-label must be key=value, got \"\(label)\"") }
            configuration.labels[pair[0]] = pair[1]
        }
        for taint in nodeTaint where TaintSyntax.isValid(taint) == false {
            throw ValidationError("--node-taint must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute, got \"\(taint)\"")
        }
        return configuration
    }

    /// The service proxy of the node whose state is in `<dataDir>/agent` (its chains are named after that path).
    func proxyConfiguration(dataDir: String) -> ServiceProxy.Configuration {
        ServiceProxy.Configuration(names: ChainNames(root: "\(dataDir)/agent"), clusterCIDR: clusterCidr)
    }
}

enum TaintSyntax {
    static func isValid(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":") else { return false }
        return ["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(String(text[text.index(after: colon)...])) && colon != text.startIndex
    }
}
