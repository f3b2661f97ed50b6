import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TugClient
import TugControllerRuntime
import TugSim

/// `tug sim`: simulated cluster members for scale work.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sim", abstract: "Simulate cluster members for scale work.",
                                                    subcommands: [SimNodesCommand.self])
}

/// `tug sim nodes --count N`: registers N hollow nodes (capacity, Ready, lease heartbeats) with a server; pods bound
/// to them are reported Running without containers. Runs until interrupted.
struct SimNodesCommand: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "Register hollow nodes and keep them Ready.")

    @Option(help: "How many nodes.")
    var count = 100

    @Option(help: "Node name prefix (nodes are <prefix>0, <prefix>1, …).")
    var prefix = "hollow-"

    @Option(help: "Allocatable cpu per node.")
    var cpu = "4"

    @Option(help: "Allocatable memory per node.")
    var memory = "32Gi"

    @Option(help: "Kubeconfig of the cluster (default: the local server's admin kubeconfig).")
    var kubeconfig = "/var/lib/tugboat/admin.kubeconfig"

    @OptionGroup var logging: LogOptions

    func execute() async throws {
        logging.bootstrap()
        guard count > 0 else { throw CommandFailure("--count must be at least 1") }
        let config: Kubeconfig
        do { config = try Kubeconfig.load(path: kubeconfig) } catch { throw CommandFailure("cannot read the kubeconfig \(kubeconfig): \(error)") }
        let client = try RESTClient(kubeconfig: config, maxConnections: 64)
        var configuration = HollowNodes.Configuration(count: count)
        configuration.prefix = prefix
        configuration.cpu = cpu
        configuration.memory = memory
        let informers = InformerFactory(client: client, logger: Logger(label: "tug.sim.informers"))
        let nodes = HollowNodes(client: client, informers: informers, configuration: configuration, logger: Logger(label: "tug.sim"))
        try await ServiceGroup.runReportingFailure(ServiceGroup(configuration: .tug([informers, nodes], logger: Logger(label: "tug.sim"))))
        try? await client.shutdown()
    }
}
