import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TugAPIMachinery
import TugClient
import TugOS
import TugRuntime

/// The node agent (the kubelet's role): registers the node and keeps its lease, watches the pods bound to it,
/// drives each through a pod worker against the container runtime, notices container exits by relisting the
/// runtime every second, and serves logs and exec to the API server. Talks to the cluster only through the API.
public final class NodeAgent: Service, Sendable {
    let configuration: AgentConfiguration
    let client: RESTClient
    let logger: Logger
    /// The serving certificate of the agent's endpoint for the node's addresses (from the cluster CA).
    let servingCertificate: @Sendable (_ hosts: [String]) async throws -> NodeCertificates.Pair
    /// The cluster CA, which callers' client certificates must chain to.
    let caPEM: String

    /// `client` calls the API as this node (`system:node:<name>`).
    public init(configuration: AgentConfiguration, client: RESTClient, caPEM: String,
                servingCertificate: @escaping @Sendable (_ hosts: [String]) async throws -> NodeCertificates.Pair, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.caPEM = caPEM
        self.servingCertificate = servingCertificate
        self.logger = logger
    }

    public func run() async throws {
        let runner = ProcessCommandRunner()
        try LinuxRuntime.enableForwarding()
        let images = try ImageStore(root: configuration.imagesRoot)
        try await BuiltInBusybox.ensure(in: images, runner: runner)
        let runtime = try LinuxRuntime(root: configuration.root, images: images, podCIDR: configuration.podCIDR,
                                       logMaxBytes: configuration.containerLogMaxBytes, logMaxFiles: configuration.containerLogMaxFiles, runner: runner)
        var nodeIP = configuration.nodeIP
        if nodeIP == nil { nodeIP = await HostFacts.defaultIPv4(runner: runner) }
        let hostIP = nodeIP ?? "127.0.0.1"
        // The endpoint's certificate first: the node reports Ready only once its endpoint can serve.
        let serving = try await servingCertificate(Array(Set([hostIP, configuration.nodeName, HostFacts.read(dataDir: configuration.root).hostname])).sorted())
        let registration = NodeRegistration(configuration: configuration, nodeIP: hostIP, client: client, images: images, logger: logger)
        try await registerWithRetry(registration)

        let registry = RegistryClient(store: images)
        let kicker = Kicker()
        let events = EventRecorder(client: client, component: "kubelet", host: configuration.nodeName, logger: logger)
        let probes = ProbeManager(runtime: runtime, events: events) { uid in kicker.kick(uid) }
        let cluster = APIClusterReader(client: client)
        let hostResolv = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        var clusterDNS = configuration.clusterDNS
        if clusterDNS.isEmpty { clusterDNS = await discoverClusterDNS() }
        let syncer = PodSyncer(
            nodeName: configuration.nodeName, hostIP: hostIP, podsRoot: "\(configuration.root)/pods", runtime: runtime,
            images: LocalImageProvider(store: images, pull: { reference in try await registry.pull(reference) }), volumes: VolumeManager(podsRoot: "\(configuration.root)/pods", cluster: cluster),
            cluster: cluster, writer: APIPodWriter(client: client), backoff: RestartBackoff(), probes: probes, memory: PodMemory(),
            sandboxes: SandboxConfigBuilder(clusterDNS: clusterDNS, clusterDomain: configuration.clusterDomain, hostResolvConf: hostResolv,
                                            pidsLimit: configuration.podPidsLimit),
            security: ContainerSecurity(seccompDirectory: "\(configuration.root)/seccomp", seccompDefault: configuration.seccompDefault),
            events: events, logger: logger)
        let workers = PodWorkers(syncer: syncer)
        kicker.set(workers)
        let endpoint = AgentEndpoint(port: configuration.port, serving: serving, caPEM: caPEM,
                                     access: EndpointAccess(client: client, nodeName: configuration.nodeName), runtime: runtime,
                                     podsRoot: "\(configuration.root)/pods", workers: workers, logger: logger)
        logger.info("node agent started", metadata: ["node": "\(configuration.nodeName)", "ip": "\(hostIP)", "podCIDR": "\(configuration.podCIDR)"])

        // The endpoint serves until the service group's graceful shutdown reaches it (it stops by itself, draining
        // open streams); the loops are cancelled then.
        let loops = [
            Task { await registration.heartbeat() },
            Task {
                let selector = "fieldSelector=spec.nodeName%3D\(self.configuration.nodeName)"
                let reflector = Reflector(client: self.client, path: "/api/v1/pods", query: selector, logger: self.logger)
                await reflector.run { event in
                    switch event {
                    case .replace(let pods):
                        await workers.replace(pods)
                        await self.collectOrphans(runtime: runtime, workers: workers)
                    case .added(let pod), .modified(let pod): await workers.update(pod)
                    case .deleted(let pod): await workers.remove(uid: pod["metadata"]["uid"].stringValue ?? "")
                    }
                }
            },
            Task { await self.relist(runtime: runtime, workers: workers) },
            // Open log follows and exec sessions would hold the endpoint's graceful shutdown: end them first.
            Task {
                try? await gracefulShutdown()
                endpoint.streams.closeAll()
            },
        ]
        do {
            try await withTaskCancellationHandler {
                try await endpoint.run()
            } onCancel: {
                loops.forEach { $0.cancel() }
            }
        } catch {
            logger.error("node agent endpoint failed", metadata: ["port": "\(configuration.port)", "error": "\(error)"])
        }
        loops.forEach { $0.cancel() }
        for loop in loops { await loop.value }
        await workers.shutdown()
        await probes.shutdown()
        await registry.shutdown()
    }

    func registerWithRetry(_ registration: NodeRegistration) async throws {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                try await registration.register()
                return
            } catch {
                if Task.isCancelled { throw CancellationError() }
                logger.debug("node registration failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// The kube-dns Service's cluster IP (the server creates it unless cluster DNS is off); none means pods use the
    /// host's resolvers.
    func discoverClusterDNS() async -> [String] {
        guard let response = try? await client.request(.GET, "/api/v1/namespaces/kube-system/services/kube-dns"), response.status == 200,
              let ip = response.json["spec"]["clusterIP"].stringValue, ip != "None" else {
            logger.info("no kube-dns Service; pods resolve with the host's resolvers")
            return []
        }
        return [ip]
    }

    /// Sandboxes and containers of pods this node no longer has (deleted while the agent was down) are removed.
    func collectOrphans(runtime: LinuxRuntime, workers: PodWorkers) async {
        let known = await workers.knownUIDs()
        let uids = Set(((try? await runtime.sandboxes()) ?? []).map(\.podUID) + ((try? await runtime.containers()) ?? []).map(\.podUID))
        for uid in uids where !known.contains(uid) { await workers.kick(uid) }
    }

    /// The pod lifecycle event generator: every second, compares each pod's containers and sandboxes with the
    /// last look and syncs the pods where something changed (a container exited, a sandbox died).
    func relist(runtime: LinuxRuntime, workers: PodWorkers) async {
        var last: [String: String] = [:]
        while !Task.isCancelled {
            var current: [String: String] = [:]
            for sandbox in (try? await runtime.sandboxes()) ?? [] { current[sandbox.podUID, default: ""] += "s\(sandbox.id):\(sandbox.state.rawValue);" }
            for container in (try? await runtime.containers()) ?? [] { current[container.podUID, default: ""] += "c\(container.id):\(container.state.rawValue);" }
            for (uid, signature) in current where last[uid] != signature { await workers.kick(uid) }
            last = current
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// Lets probe callbacks reach the pod workers created after them.
final class Kicker: Sendable {
    private let workers = Mutex<PodWorkers?>(nil)

    func set(_ value: PodWorkers) { workers.withLock { $0 = value } }

    func kick(_ uid: String) {
        guard let workers = workers.withLock({ $0 }) else { return }
        Task { await workers.kick(uid) }
    }
}

struct APIPodWriter: PodStatusWriter {
    let client: RESTClient

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func patchStatus(namespace: String, name: String, uid: String, status: JSONValue) async throws {
        let body: JSONValue = ["metadata": ["uid": .string(uid)], "status": status]
        let response = try await client.request(.PATCH, "/api/v1/namespaces/\(namespace)/pods/\(name)/status", body: body,
                                                contentType: "application/merge-patch+json")
        guard response.status == 200 || response.status == 404 else {
            throw Failure(description: "patch status of pod \(namespace)/\(name): HTTP \(response.status): \(response.json["message"].stringValue ?? "")")
        }
    }

    func deletePod(namespace: String, name: String, uid: String) async throws {
        let options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0, "preconditions": ["uid": .string(uid)]]
        let response = try await client.request(.DELETE, "/api/v1/namespaces/\(namespace)/pods/\(name)", body: options)
        guard [200, 202, 404, 409].contains(response.status) else {
            throw Failure(description: "delete pod \(namespace)/\(name): HTTP \(response.status)")
        }
    }
}
