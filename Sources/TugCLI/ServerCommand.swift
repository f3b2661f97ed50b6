import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import TugAPI
import TugAdmission
import TugAPIMachinery
import TugAPIServer
import TugAuth
import TugClient
import TugControllerRuntime
import TugControllers
import TugDNS
import TugEncryption
import TugIngress
import TugNodeAgent
import TugOS
import TugProxy
import TugRegistry
import TugScheduler
import TugStorage
import TugStorageSQLite

/// `tug server`: the control plane in one process (API server, store, controllers), k3s-style.
struct ServerCommand: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "server", abstract: "Run the Tugboat control plane and a node agent for this machine.")

    @Option(help: "Directory for the store, certificates and credentials.")
    var dataDir = "/var/lib/tugboat"

    @Option(help: "Address the API server listens on (all addresses by default: pods reach it through the kubernetes Service).")
    var bindAddress = "0.0.0.0"

    @Option(help: "Address the API server and cluster DNS are reached at from pods and other nodes (default: --node-ip, else the default route's address).")
    var advertiseAddress: String?

    @Option(help: "Port cluster DNS listens on at the advertised address (UDP and TCP; 0 picks a free one); the kube-dns Service's 53 leads there.")
    var clusterDnsPort = 10053

    @Option(help: "HTTPS port of the API server.")
    var httpsPort = 6443

    @Option(help: "Where to write the admin kubeconfig (default: <data-dir>/admin.kubeconfig).")
    var writeKubeconfig: String?

    @Flag(help: "Do not run the node agent and service proxy on this machine.")
    var disableAgent = false

    @Flag(help: "Do not run the scheduler (pods stay Pending unless something else binds them), as k3s's --disable-scheduler.")
    var disableScheduler = false

    @Option(help: "IPv4 range for Service cluster IPs; its first address is the kubernetes Service, its tenth cluster DNS.")
    var serviceCidr = "10.43.0.0/16"

    @Option(help: "Port of the built-in ingress controller's HTTP listener on all addresses (0 disables it).")
    var ingressHttpPort = 80

    @Option(help: "Port of the built-in ingress controller's HTTPS listener on all addresses (0 disables it).")
    var ingressHttpsPort = 443

    @Option(help: "Seconds a watch without timeoutSeconds lasts at least (it ends at a random time between one and two of these), as kube-apiserver's --min-request-timeout.")
    var minRequestTimeout = 1800

    @Option(help: "Concurrent non-mutating requests, as kube-apiserver's --max-requests-inflight; with --max-mutating-requests-inflight, the seats API Priority and Fairness divides among its priority levels.")
    var maxRequestsInflight = 400

    @Option(help: "Concurrent mutating requests, as kube-apiserver's --max-mutating-requests-inflight (added to --max-requests-inflight for API Priority and Fairness).")
    var maxMutatingRequestsInflight = 200

    @Option(help: "Connections one client address may hold open to the API server (0: no cap); more are closed as they arrive.")
    var maxConnectionsPerClient = 4096

    @OptionGroup var node: NodeOptions

    @Option(help: "How long a node may go without renewing its lease before it is marked unreachable (e.g. 40s, 2m).")
    var nodeMonitorGracePeriod = "40s"

    @Option(help: "How long an Event is kept after its last write, as kube-apiserver's --event-ttl (e.g. 1h, 30m).")
    var eventTtl = "1h"

    @Option(help: "Pod Security Admission's cluster defaults, which namespace labels override mode by mode (enforce, audit, warn and their -version).")
    var podSecurityDefaults = "enforce=privileged,warn=restricted"

    @Option(help: "Namespaces Pod Security Admission does not check (comma-separated).")
    var podSecurityExemptNamespaces = ""

    @Flag(help: "Encrypt Secrets at rest (a key is made under <data-dir>/server/cred on first use; once on, it stays on).")
    var secretsEncryption = false

    @Option(help: "An EncryptionConfiguration file (kube-apiserver's --encryption-provider-config) instead of the generated one.")
    var encryptionProviderConfig: String?

    @Option(help: "The issuer of service-account tokens (their iss and the audience the API accepts), as kube-apiserver's --service-account-issuer.")
    var serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

    @OptionGroup var audit: AuditOptions

    @OptionGroup var logging: LogOptions

    func execute() async throws {
        logging.bootstrap()
        let eventTTL = try Self.duration(eventTtl, option: "--event-ttl")
        let podSecurity: PodSecurityAdmission
        do {
            var exemptions = PodSecurityAdmission.Exemptions()
            exemptions.namespaces = Set(podSecurityExemptNamespaces.split(separator: ",").map { String($0) })
            podSecurity = PodSecurityAdmission(defaults: try PodSecurityPolicy.parseDefaults(podSecurityDefaults), exemptions: exemptions)
        } catch {
            throw ValidationError("--pod-security-defaults: \(error)")
        }
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        // kube-apiserver's buckets, so latency percentiles read from /metrics compare with upstream's SLOs.
        let apiserverBuckets = [
            0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
        ].map { Duration.milliseconds(Int64($0 * 1000)) }
        metricsFactory.durationHistogramBuckets["apiserver_request_duration_seconds"] = apiserverBuckets
        metricsFactory.durationHistogramBuckets["apiserver_request_sli_duration_seconds"] = apiserverBuckets
        // The store's steps take from tens of microseconds (a small batch's prepare) to seconds (a slow fsync).
        metricsFactory.durationHistogramBuckets[StorageMetrics.durationLabel] = [
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
        ].map { Duration.nanoseconds(Int64($0 * 1e9)) }
        MetricsSystem.bootstrap(metricsFactory)
        let logger = Logger(label: "tug.server")
        let started = ContinuousClock.now

        guard minRequestTimeout > 0 else { throw CommandFailure("--min-request-timeout must be a positive number of seconds, got \(minRequestTimeout)") }
        guard maxRequestsInflight >= 0, maxMutatingRequestsInflight >= 0, maxRequestsInflight + maxMutatingRequestsInflight > 0 else {
            throw CommandFailure("--max-requests-inflight and --max-mutating-requests-inflight must not be negative, and not both 0")
        }
        let serviceNetwork: ServiceNetwork
        do { serviceNetwork = try ServiceNetwork(cidr: serviceCidr) } catch { throw CommandFailure(error.description) }
        let auditBackend = try audit.backend()
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(dataDir)/server/db", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let lock: DataDirLock
        do { lock = try DataDirLock(dataDir: dataDir) } catch { throw CommandFailure(error.description) }
        // The embedded agent owns `<data-dir>/agent` like a `tug agent` would: a second agent on this data dir
        // would adopt and remove this one's containers.
        var agentLock: DataDirLock?
        if !disableAgent {
            try fm.createDirectory(atPath: "\(dataDir)/agent", withIntermediateDirectories: true)
            do { agentLock = try DataDirLock(dataDir: dataDir, role: "agent") } catch { throw CommandFailure(error.description) }
        }
        try ListenCheck.ensureWritable("\(dataDir)/server/db")
        try ListenCheck.ensureFree(host: bindAddress, port: httpsPort, option: "--https-port")
        if !disableAgent { try ListenCheck.ensureFree(host: "0.0.0.0", port: node.agentPort, option: "--agent-port") }
        try ListenCheck.ensureFree(host: "0.0.0.0", port: ingressHttpPort, option: "--ingress-http-port")
        try ListenCheck.ensureFree(host: "0.0.0.0", port: ingressHttpsPort, option: "--ingress-https-port")
        var advertised = advertiseAddress ?? node.nodeIP
        if advertised == nil { advertised = await NodeAddress.defaultIPv4() }
        let advertise = advertised ?? (bindAddress == "0.0.0.0" ? "127.0.0.1" : bindAddress)
        let credentials: ClusterCredentials
        do {
            credentials = try ClusterCredentials.loadOrCreate(directory: "\(dataDir)/server/tls",
                                                              hosts: [bindAddress, advertise, ProcessInfo.processInfo.hostName, serviceNetwork.kubernetesIP].filter { $0 != "0.0.0.0" })
        } catch {
            throw CommandFailure("cannot load or create the cluster credentials in \(dataDir)/server/tls: \(error)")
        }
        let scheme = Scheme.builtIn
        let encryption: EncryptionConfiguration?
        do {
            encryption = try SecretsEncryption.load(dataDir: dataDir, providerConfig: encryptionProviderConfig, enable: secretsEncryption)
        } catch {
            throw CommandFailure("the encryption configuration is unusable: \(error)")
        }
        let backend: SQLiteBackend
        do {
            backend = try SQLiteBackend(path: "\(dataDir)/server/db/state.db", indexedFields: StorageKeys.indexedFields, logger: Logger(label: "tug.storage"),
                                        transformer: encryption.map(EncryptionTransformer.init), indexer: StorageKeys.indexer(scheme: scheme))
        } catch {
            throw CommandFailure("cannot open the store \(dataDir)/server/db/state.db: \(error)")
        }
        // Already logged one by one; counted for /metrics, listed by `tug doctor --data-dir`.
        Gauge(label: "tug_storage_corrupt_records").record(backend.corruptRecords.count)
        // Upstream's order among these: LimitRanger (defaults) before PodSecurity, ResourceQuota last.
        let admission = [NodeRestriction().registrations(), LimitRanger().registrations(), podSecurity.registrations(),
                         CertificateRequestIdentity().registrations(),
                         ResourceQuotaAdmission().registrations(scheme)]
            .reduce(into: [GroupResource: [any AdmissionPlugin]]()) { all, more in all.merge(more) { $0 + $1 } }
        let store = ObjectStore(scheme: scheme, backend: backend, serviceNetwork: serviceNetwork, authorization: ClusterAuthorization(),
                                admission: admission)

        let kubeconfigPath = writeKubeconfig ?? "\(dataDir)/admin.kubeconfig"
        let host = bindAddress == "0.0.0.0" ? "127.0.0.1" : bindAddress
        let kubeconfig = credentials.kubeconfig(server: "https://\(host):\(httpsPort)")
        try Data(kubeconfig.utf8).write(to: URL(fileURLWithPath: kubeconfigPath), options: .atomic)
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: kubeconfigPath)

        let resolver = DNSResolver(forwarder: Forwarder.fromResolvConf((try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""))
        let dns: DNSServer
        do {
            dns = try await DNSServer.bind(host: advertise, port: clusterDnsPort, resolver: resolver, logger: Logger(label: "tug.dns"))
        } catch {
            throw CommandFailure("cluster DNS cannot listen on \(advertise):\(clusterDnsPort) (UDP and TCP): \(error); choose another --cluster-dns-port")
        }
        let bootstrapped = ReadinessFlag()
        let policyReady = Gate()
        var apiConfiguration = APIServer.Configuration(bindAddress: bindAddress, port: httpsPort, credentials: credentials)
        apiConfiguration.minRequestTimeoutSeconds = minRequestTimeout
        apiConfiguration.serviceAccountIssuer = serviceAccountIssuer
        apiConfiguration.audit = auditBackend
        apiConfiguration.maxRequestsInflight = maxRequestsInflight
        apiConfiguration.maxMutatingRequestsInflight = maxMutatingRequestsInflight
        guard maxConnectionsPerClient >= 0 else { throw CommandFailure("--max-connections-per-client must not be negative, got \(maxConnectionsPerClient)") }
        apiConfiguration.maxConnectionsPerClient = maxConnectionsPerClient
        let server: APIServer
        do {
            server = try APIServer(store: store, configuration: apiConfiguration,
                                   logger: Logger(label: "tug.apiserver"), metrics: { registry.emitToString() + HeapFigures.metricsText() }, ready: { bootstrapped.isSet })
        } catch {
            throw CommandFailure("the cluster credentials in \(dataDir)/server/tls are unusable: \(error)")
        }
        let port = httpsPort
        let address = bindAddress
        let listening = Gate()
        let app = try server.application(onServerRunning: { _ in
            listening.open()
            let elapsed = ContinuousClock.now - started
            logger.info("tug server ready", metadata: ["address": "https://\(address):\(port)", "kubeconfig": "\(kubeconfigPath)",
                                                       "startup_ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)"])
        })
        try Data((credentials.nodeToken + "\n").utf8).write(to: URL(fileURLWithPath: "\(dataDir)/server/node-token"), options: .atomic)
        // The scheduler and controllers call the API server's handler in process, each with its own identity
        // (system:kube-scheduler, system:kube-controller-manager): the same requests, authentication, flow control
        // (workload-high, as upstream) and bytes as over HTTPS, without TLS, sockets or a connection pool (a pool of
        // loopback HTTPS connections timed out under load with getConnectionFromPoolTimeout, and TLS and HTTP on
        // both ends of loopback cost CPU every pod paid for several times).
        let inProcess = InProcessTransport(server: server)
        // One budget of 128 requests in flight for both, as their shared HTTPS pool was: unbounded, a ReplicaSet's
        // bursts of creates ran all at once and pods waited a minute between creation and Running while the server
        // caught up with them; with budgets of their own (128 or 64 each), creates outran binding (150,000 pods made,
        // 104,000 bound), the scheduler's backlog grew, binding slowed to 140 pods/s and RSS passed 2 GiB.
        let controllerClient = RESTClient(transport: inProcess, token: server.components.token(for: .kubeControllerManager), maxInFlight: 128)
        let schedulerClient = RESTClient(sharing: controllerClient, token: server.components.token(for: .kubeScheduler))
        // One watch per resource for the scheduler and all controllers.
        func controller(_ name: String) -> RESTClient {
            RESTClient(sharing: controllerClient, token: server.components.token(for: ControllerPolicy.user(name)))
        }
        // Nothing is listed before the server listens and the RBAC policy is in place (StoreService), so no
        // component starts with a 403.
        // The scheduler reads the controllers' caches of pods, nodes and namespaces (one copy of the biggest caches)
        // but under its own role: the factory does not start unless system:kube-scheduler may list and watch them.
        let authorization = store.authorization
        let readCheck: InformerFactory.ReadCheck = { reader, resource in
            let user = UserInfo(name: reader, groups: [UserInfo.authenticatedGroup])
            for verb in ["list", "watch"] where !authorization.authorize(AuthorizationAttributes(user: user, verb: verb, apiGroup: resource.group,
                                                                                                   resource: resource.resource)).allowed {
                return "\(reader) may not \(verb) \(resource): its role does not allow it"
            }
            return nil
        }
        let informers = InformerFactory(client: controllerClient, startAfter: [listening, policyReady], readCheck: readCheck, logger: Logger(label: "tug.informers"))
        // Components outside the controller manager read as themselves (their own watches, under their own roles):
        // the cluster DNS as kube-system/kube-dns, the ingress proxy as its service account, the local node's proxy
        // and network policy as the node. Their caches are the small kinds (Services, EndpointSlices, Secrets,
        // Ingresses; the node's pods): the controllers' big ones stay shared.
        var readers = [informers]
        func reader(_ client: RESTClient, _ label: String) -> InformerFactory {
            let factory = InformerFactory(client: client, startAfter: [listening, policyReady], logger: Logger(label: label))
            readers.append(factory)
            return factory
        }
        let dnsClient = RESTClient(sharing: controllerClient, token: server.components.token(for: .clusterDNS))
        var services: [any Service] = [
            dns,
            ClusterDNS(resolver: resolver, informers: reader(dnsClient, "tug.dns.informers")),
            NodeLifecycleController(client: controller(ControllerPolicy.node), informers: informers, logger: Logger(label: "tug.controller.nodelifecycle"),
                                    gracePeriod: try Self.duration(nodeMonitorGracePeriod, option: "--node-monitor-grace-period")),
        ] + ControllerManager.services(client: controller, informers: informers)
        let ingressEnabled = ingressHttpPort != 0 || ingressHttpsPort != 0
        if ingressEnabled {
            let identity = try AgentCertificate.selfSigned(hostname: "ingress.local")
            var ingress = IngressController.Configuration(address: advertise, defaultCertificatePEM: identity.certificatePEM, defaultKeyPEM: identity.keyPEM)
            ingress.httpPort = ingressHttpPort
            ingress.httpsPort = ingressHttpsPort
            let ingressClient = controller(ControllerPolicy.ingress)
            services.append(IngressController(configuration: ingress, client: ingressClient, informers: reader(ingressClient, "tug.ingress.informers"),
                                              logger: Logger(label: "tug.ingress")))
        }
        if !disableScheduler {
            services.insert(Scheduler(client: schedulerClient, informers: informers, logger: Logger(label: "tug.scheduler")), at: 1)
        }
        // The local node agent calls the API as system:node:<name> with a certificate this server's CA issues it
        // (k3s does the same for its own agent; a joining agent asks through a CertificateSigningRequest).
        var agentConfiguration = try node.configuration(dataDir: dataDir)
        let localNode = disableAgent ? nil : try Self.localNodeCredentials(credentials, nodeName: agentConfiguration.nodeName, dataDir: dataDir)
        let agentClient = try localNode.map { pair in
            try RESTClient(kubeconfig: Kubeconfig(server: "https://\(host):\(httpsPort)", caPEM: credentials.caPEM, token: nil,
                                                  clientCertificatePEM: pair.client.certificatePEM, clientKeyPEM: pair.client.keyPEM))
        }
        if let client = agentClient, let ca = localNode?.ca {
            if agentConfiguration.clusterDNS.isEmpty { agentConfiguration.clusterDNS = [serviceNetwork.dnsIP] }
            let nodeName = agentConfiguration.nodeName
            let agent = NodeAgent(configuration: agentConfiguration, client: client, caPEM: credentials.caPEM, servingCertificate: { hosts in
                let issued = try ca.issue(commonName: "system:node:\(nodeName)", organizations: ["system:nodes"], usage: .server, hosts: hosts)
                return NodeCertificates.Pair(certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM)
            }, logger: Logger(label: "tug.agent"))
            services.append(agent)
            let nodeInformers = reader(client, "tug.agent.informers")
            services.append(ServiceProxy(configuration: node.proxyConfiguration(dataDir: dataDir), informers: nodeInformers,
                                         runner: ProcessCommandRunner(), logger: Logger(label: "tug.proxy")))
            services.append(NetworkPolicyEnforcer(names: node.proxyConfiguration(dataDir: dataDir).names, nodeName: nodeName, informers: nodeInformers,
                                                  runner: ProcessCommandRunner(), logger: Logger(label: "tug.netpol")))
        }
        // Services stop in reverse order: the agent and the control loops first (side by side), then the API
        // server (ending watches). The informers go last among them, once nothing reads their caches.
        services = [ConcurrentServices(serviceName: "informers", services: readers, firstID: 2000),
                    ConcurrentServices(serviceName: "control loops", services: services, firstID: 1000)]
        let groupConfiguration = ServiceGroupConfiguration.tug([
            StoreService(backend: backend, store: store, apiAddress: advertise, apiPort: httpsPort, dnsPort: dns.port,
                         ingressController: ingressEnabled ? IngressController.controllerName : nil, bootstrapped: bootstrapped,
                         policyReady: policyReady),
            RBACPolicyService(store: store, startAfter: policyReady),
            ResourceQuotaStatusService(store: store),
            // Signs CertificateSigningRequests (a data dir made before the CA key was kept cannot).
            credentials.ca.map { CertificateSigningService(store: store, ca: $0) } ?? ShutdownHook {},
            NamespaceLifecycle(store: store),
            EventTTL(store: store, ttl: eventTTL),
            server.flowcontrolConfigService(),
            NamespaceDefaults.serviceAccounts(store: store),
            NamespaceDefaults.rootCA(store: store, caPEM: credentials.caPEM),
            WatchProgressNotifier(backend: backend),
            // Closes the in-process clients once the API server has ended their watches.
            ShutdownHook {
                try? await agentClient?.shutdown()
                try? await controllerClient.shutdown()
                try? await schedulerClient.shutdown()
            },
            app,
            // Ends open watches, followed logs and exec sessions so the API server's shutdown does not wait on them.
            ShutdownHook { server.closeStreams() },
        ] + services, logger: logger)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await ServiceGroup.runReportingFailure(group)
        ShutdownDeadline.entering("closing the connections to node agents")
        await server.shutdown()
        withExtendedLifetime((lock, agentLock)) {}
        ShutdownDeadline.entering("exiting after every service stopped")
        ShutdownDeadline.reportSlowShutdown()
        logger.info("tug server stopped")
        // Every service has stopped and every acknowledged write is on disk: exit now rather than free the caches
        // object by object on the way out (with 150,000 pods decoded in the informers that took over ten seconds,
        // past the grace period, after the graceful shutdown itself had finished in under two).
        Foundation.exit(0)
    }
}

extension ServerCommand {
    /// The local node's client certificate, issued by the cluster CA.
    static func localNodeCredentials(_ credentials: ClusterCredentials, nodeName: String, dataDir: String) throws -> (client: NodeCertificates.Pair, ca: ClusterCA) {
        guard let ca = credentials.ca else {
            throw CommandFailure("the local node agent needs the cluster CA's key (\(dataDir)/server/tls/ca.key), which this data dir predates: "
                                 + "run with --disable-agent and join agents by token, or start from a new data dir")
        }
        let issued = try ca.issue(commonName: "system:node:\(nodeName)", organizations: ["system:nodes"], usage: .client)
        return (NodeCertificates.Pair(certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM), ca)
    }

    /// `40s`, `2m`, `1h` (Go duration syntax, whole units).
    static func duration(_ text: String, option: String) throws -> Duration {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
        // At most ten years: a larger value would overflow the arithmetic of the deadlines made from it.
        guard let unit = text.last, let scale = units[unit], let value = Int64(text.dropLast()), value > 0,
              value <= 10 * 365 * 86_400 / scale else {
            throw ValidationError("\(option) must be a duration such as 40s or 2m (at most ten years), got \"\(text)\"")
        }
        return .seconds(value * scale)
    }
}

/// Runs the SQLite writer loop for the life of the server, after making sure the bootstrap objects exist.
struct StoreService: Service {
    let backend: SQLiteBackend
    let store: ObjectStore
    let apiAddress: String
    let apiPort: Int
    let dnsPort: Int
    let ingressController: String?
    let bootstrapped: ReadinessFlag
    let policyReady: Gate

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await backend.run() }
            try await Bootstrap.ensure(store, apiServerAddress: apiAddress, apiServerPort: apiPort, clusterDNSPort: dnsPort, ingressController: ingressController)
            try await RBACPolicyService.prepare(store)
            policyReady.open()
            bootstrapped.set()
            // Serve until the group shuts down, then stop the writer (it fails anything still queued).
            try? await gracefulShutdown()
            backend.shutdown()
            try await group.waitForAll()
        }
    }
}

/// A one-way flag shared between services (readiness).
final class ReadinessFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// Runs an action when the service group shuts down (placed in the group where that action must happen).
struct ShutdownHook: Service {
    let action: @Sendable () async -> Void

    func run() async throws {
        try? await gracefulShutdown()
        await action()
    }
}
