import Foundation
public import Logging
public import ServiceLifecycle
import TugAPIMachinery
public import TugControllerRuntime
import TugOS

/// The service proxy of a node (kube-proxy's role, iptables mode): watches Services and EndpointSlices and keeps
/// the node's NAT rules in step, one sync per burst of changes. Rules stay when the proxy stops (connections keep
/// working across a restart); `tug reset` removes them.
public final class ServiceProxy: Service, Sendable {
    public struct Configuration: Sendable {
        public var names: ChainNames
        /// The cluster's pod range (traffic from elsewhere is masqueraded).
        public var clusterCIDR: String

        public init(names: ChainNames, clusterCIDR: String) {
            self.names = names
            self.clusterCIDR = clusterCIDR
        }
    }

    static let byService = "proxy.slicesByService"

    let services: Informer
    let slices: Informer
    let syncer: ProxySyncer
    let logger: Logger
    let signal = ChangeSignal()

    public init(configuration: Configuration, informers: InformerFactory, runner: any CommandRunner, logger: Logger) {
        self.logger = logger
        syncer = ProxySyncer(rules: ProxyRules(names: configuration.names, clusterCIDR: configuration.clusterCIDR), iptables: IPTables(runner: runner))
        services = informers.informer(.services)
        slices = informers.informer(.endpointSlices)
        slices.store.addIndex(Self.byService) { slice in EndpointSliceReading.serviceKey(slice).map { [$0] } ?? [] }
        signal.watch([services, slices])
    }

    public func run() async throws {
        Self.prepareHost(logger: logger)
        await services.waitForSync()
        await slices.waitForSync()
        await RuleSyncLoop.run(signal, applier: syncer.applier, what: "proxy", logger: logger) { [self] in
            syncer.rules.render(currentPorts())
        }
    }

    /// Every Service port with its ready endpoints, from the informers' caches.
    func currentPorts() -> [ServicePort] {
        services.store.list().flatMap { service in
            ServicePort.ports(of: service, slices: slices.store.byIndex(Self.byService, "\(service.namespace)/\(service.name)"))
        }
    }

    /// What the rules rely on: bridged pod traffic passes iptables (a reply from a pod on the same bridge must be
    /// un-DNATed), and 127.0.0.1 may be routed to a pod (node ports on localhost, as kube-proxy allows).
    static func prepareHost(logger: Logger) {
        for (path, value) in [("/proc/sys/net/bridge/bridge-nf-call-iptables", "1"), ("/proc/sys/net/ipv4/conf/all/route_localnet", "1")] {
            do {
                try Data(value.utf8).write(to: URL(fileURLWithPath: path))
            } catch {
                logger.warning("could not set \(path) to \(value); Services may not answer from pods on this node", metadata: ["error": "\(error)"])
            }
        }
    }
}
