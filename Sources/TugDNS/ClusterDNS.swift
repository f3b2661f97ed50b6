import Logging
public import ServiceLifecycle
public import TugControllerRuntime

/// Keeps the DNS server's zone in step with the cluster: Services and EndpointSlices from the shared informers,
/// one rebuild per burst of changes.
public final class ClusterDNS: Service, Sendable {
    static let endpointSlices = APIResource(group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice")

    let resolver: DNSResolver
    let domain: String
    let services: Informer
    let slices: Informer
    let changes: AsyncStream<Void>
    let changed: AsyncStream<Void>.Continuation

    public init(resolver: DNSResolver, informers: InformerFactory, domain: String = "cluster.local") {
        self.resolver = resolver
        self.domain = domain
        services = informers.informer(.services)
        slices = informers.informer(Self.endpointSlices)
        (changes, changed) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        services.addHandler { [changed] _ in changed.yield() }
        slices.addHandler { [changed] _ in changed.yield() }
    }

    public func run() async throws {
        await services.waitForSync()
        await slices.waitForSync()
        changed.yield()
        for await _ in changes.cancelOnGracefulShutdown() {
            resolver.update(ClusterZone(domain: domain, services: services.store.list(), slices: slices.store.list()))
        }
    }
}
