import Logging
public import ServiceLifecycle
public import TugControllerRuntime

/// Keeps the DNS server's zone in step with the cluster: Services and EndpointSlices from the shared informers,
/// one rebuild per burst of changes.
public final class ClusterDNS: Service, Sendable {
    let resolver: DNSResolver
    let domain: String
    let services: Informer
    let slices: Informer
    let signal = ChangeSignal()

    public init(resolver: DNSResolver, informers: InformerFactory, domain: String = "cluster.local") {
        self.resolver = resolver
        self.domain = domain
        services = informers.informer(.services)
        slices = informers.informer(.endpointSlices)
        signal.watch([services, slices])
    }

    public func run() async throws {
        await services.waitForSync()
        await slices.waitForSync()
        signal.notify()
        for await _ in signal.changes.cancelOnGracefulShutdown() {
            resolver.update(ClusterZone(domain: domain, services: services.store.list(), slices: slices.store.list()))
        }
    }
}
