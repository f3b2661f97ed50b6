import AsyncHTTPClient
import Foundation
public import Hummingbird
import HummingbirdTLS
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle
import Synchronization
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// The built-in ingress controller (IngressClass `tug`), in `tug server`: keeps the routing table in step with
/// Ingresses, Services, EndpointSlices and Secrets, serves HTTP and HTTPS (TLS from the Ingresses' Secrets by SNI,
/// else a self-signed default certificate) on the node's addresses, and publishes the node address in each
/// Ingress's `status.loadBalancer`.
///
/// The data path is SwiftNIO in-process (Hummingbird in front, AsyncHTTPClient's pooled connections behind) rather
/// than a generated nginx configuration: a change is an atomic swap of an immutable table (no reloads, no config
/// files, no second process to supervise), and it reads the same informer caches as everything else here.
public final class IngressController: Service, Sendable {
    public struct Configuration: Sendable {
        public var className = "tug"
        public var controllerName = IngressController.controllerName
        public var bindAddress = "0.0.0.0"
        /// 0 disables a listener.
        public var httpPort = 80
        public var httpsPort = 443
        /// What `status.loadBalancer.ingress` says.
        public var address: String
        public var defaultCertificatePEM: String
        public var defaultKeyPEM: String

        public init(address: String, defaultCertificatePEM: String, defaultKeyPEM: String) {
            self.address = address
            self.defaultCertificatePEM = defaultCertificatePEM
            self.defaultKeyPEM = defaultKeyPEM
        }
    }

    public static let controllerName = "tugboat.dev/ingress-controller"

    let configuration: Configuration
    let client: RESTClient
    let logger: Logger
    let ingresses: Informer
    let services: Informer
    let slices: Informer
    let secrets: Informer
    let routes = RouteTable()
    let signal = ChangeSignal()

    public init(configuration: Configuration, client: RESTClient, informers: InformerFactory, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        ingresses = informers.informer(.ingresses)
        services = informers.informer(.services)
        slices = informers.informer(.endpointSlices)
        secrets = informers.informer(.secrets)
        signal.watch([ingresses, services, slices, secrets])
    }

    public func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            timeout: .init(connect: .seconds(5), read: .seconds(60)), connectionPool: .init(idleTimeout: .seconds(60))))
        await withDiscardingTaskGroup { group in
            if configuration.httpPort != 0 {
                group.addTask { await self.serve(IngressProxy(routes: self.routes, client: http, scheme: "http"), port: self.configuration.httpPort, tls: nil) }
            }
            if configuration.httpsPort != 0 {
                group.addTask {
                    do {
                        let tls = try self.tlsConfiguration()
                        await self.serve(IngressProxy(routes: self.routes, client: http, scheme: "https"), port: self.configuration.httpsPort, tls: tls)
                    } catch {
                        self.logger.error("ingress HTTPS listener not started", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask { await self.syncLoop() }
        }
        try? await http.shutdown()
    }

    func serve(_ proxy: IngressProxy, port: Int, tls: TLSConfiguration?) async {
        let address = BindAddress.hostname(configuration.bindAddress, port: port)
        do {
            if let tls {
                try await Application(responder: proxy, server: try .tls(.http1(), tlsConfiguration: tls),
                                      configuration: .init(address: address, serverName: nil), logger: logger).runService()
            } else {
                try await Application(responder: proxy, server: .http1(), configuration: .init(address: address, serverName: nil), logger: logger).runService()
            }
        } catch {
            logger.error("ingress listener failed", metadata: ["port": "\(port)", "error": "\(error)"])
        }
    }

    /// The default certificate, and each Ingress's by SNI through the current routes.
    func tlsConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(configuration.defaultCertificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(configuration.defaultKeyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.applicationProtocols = ["http/1.1"]
        tls.shutdownTimeout = .milliseconds(500)
        let routes = self.routes
        tls.sslContextCallback = { values, promise in
            var override = NIOSSLContextConfigurationOverride()
            if let name = values.serverHostname, let certificate = routes.current.certificate(for: name),
               let chain = try? NIOSSLCertificate.fromPEMBytes(Array(certificate.certificatePEM.utf8)), !chain.isEmpty,
               let key = try? NIOSSLPrivateKey(bytes: Array(certificate.keyPEM.utf8), format: .pem) {
                override.certificateChain = chain.map { .certificate($0) }
                override.privateKey = .privateKey(key)
            }
            promise.succeed(override)
        }
        return tls
    }

    /// Rebuilds the routes on every burst of changes and publishes the address on the Ingresses of this class.
    func syncLoop() async {
        for informer in [ingresses, services, slices, secrets] { await informer.waitForSync() }
        signal.notify()
        for await _ in signal.changes.cancelOnGracefulShutdown() {
            let mine = ingresses.store.list().filter(isMine)
            routes.replace(IngressRoutes(ingresses: mine, services: services.store.list(), slices: slices.store.list(), secrets: secrets.store.list()))
            let wanted: JSONValue = ["ingress": [["ip": .string(configuration.address)]]]
            for ingress in mine where ingress["status"]["loadBalancer"] != wanted && ingress.deletionTimestamp == nil {
                do {
                    _ = try await client.mergePatch(APIResource.ingresses.path(ObjectKey(ingress), subresource: "status"), ["status": ["loadBalancer": wanted]])
                } catch {
                    logger.warning("could not publish the ingress address", metadata: ["ingress": "\(ingress.namespace)/\(ingress.name)", "error": "\(error)"])
                }
            }
        }
    }

    func isMine(_ ingress: JSONValue) -> Bool {
        if let name = ingress["spec"]["ingressClassName"].stringValue { return name == configuration.className }
        return ingress["metadata"]["annotations"]["kubernetes.io/ingress.class"].stringValue == configuration.className
    }
}
