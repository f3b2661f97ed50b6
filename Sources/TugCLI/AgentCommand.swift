import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TugClient
import TugControllerRuntime
import TugNodeAgent
import TugOS
import TugProxy

/// `tug agent`: a node joining a server by token. It talks only to the API server.
struct AgentCommand: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Run a node agent that joins a Tugboat server.")

    @Option(help: "URL of the server's API, e.g. https://10.0.0.1:6443.")
    var server: String

    @Option(help: "The node join token (`<data-dir>/server/node-token` on the server).")
    var token: String

    @Option(help: "Directory for images, containers and pod data of this node.")
    var dataDir = "/var/lib/tugboat"

    @OptionGroup var node: NodeOptions

    @OptionGroup var logging: LogOptions

    func execute() async throws {
        logging.bootstrap()
        let logger = Logger(label: "tug.agent")
        guard let join = NodeJoinToken(parsing: token) else { throw CommandFailure("--token is not a node join token (T1<hash>::<secret>)") }
        try FileManager.default.createDirectory(atPath: "\(dataDir)/agent", withIntermediateDirectories: true)
        let lock: DataDirLock
        do { lock = try DataDirLock(dataDir: dataDir, role: "agent") } catch { throw CommandFailure(error.description) }
        try ListenCheck.ensureFree(host: "0.0.0.0", port: node.agentPort, option: "--agent-port")
        let caPEM = try await Self.fetchCA(server: server, token: join)
        let configuration = try node.configuration(dataDir: dataDir)
        let nodeName = configuration.nodeName
        // The join token only bootstraps: with it the agent asks for this node's client certificate (approved
        // automatically), and from then on calls the API as system:node:<name>.
        let pki = "\(dataDir)/agent/pki"
        let bootstrap = try RESTClient(kubeconfig: Kubeconfig(server: server, caPEM: caPEM, token: join.description))
        let identity: NodeCertificates.Pair
        do {
            identity = try await NodeCertificates.obtain(client: bootstrap, signer: NodeCertificates.clientSigner, nodeName: nodeName,
                                                         directory: pki, name: "client", logger: logger)
        } catch {
            try? await bootstrap.shutdown()
            throw CommandFailure("cannot get this node's client certificate from \(server): \(error)")
        }
        try await bootstrap.shutdown()
        let client = try RESTClient(kubeconfig: Kubeconfig(server: server, caPEM: caPEM, token: nil, clientCertificatePEM: identity.certificatePEM,
                                                           clientKeyPEM: identity.keyPEM))
        let agent = NodeAgent(configuration: configuration, client: client, caPEM: caPEM, servingCertificate: { hosts in
            try await NodeCertificates.obtain(client: client, signer: NodeCertificates.servingSigner, nodeName: nodeName, hosts: hosts,
                                              directory: pki, name: "serving", logger: logger)
        }, logger: logger)
        let informers = InformerFactory(client: client, logger: Logger(label: "tug.informers"))
        let proxy = ServiceProxy(configuration: node.proxyConfiguration(dataDir: dataDir), informers: informers, runner: ProcessCommandRunner(),
                                 logger: Logger(label: "tug.proxy"))
        let policies = NetworkPolicyEnforcer(names: node.proxyConfiguration(dataDir: dataDir).names, nodeName: nodeName, informers: informers,
                                             runner: ProcessCommandRunner(), logger: Logger(label: "tug.netpol"))
        try await ServiceGroup.runReportingFailure(ServiceGroup(configuration: .tug([informers, proxy, policies, agent], logger: logger)))
        try await client.shutdown()
        withExtendedLifetime(lock) {}
    }

    /// The server's CA from its public `/cacerts`, accepted only if it matches the hash in the join token.
    static func fetchCA(server: String, token: NodeJoinToken) async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let result: Result<String, any Error>
        do { result = .success(try await fetchCA(http: http, server: server, token: token)) } catch { result = .failure(error) }
        try? await http.shutdown()
        return try result.get()
    }

    static func fetchCA(http: HTTPClient, server: String, token: NodeJoinToken) async throws -> String {
        var delay = Duration.milliseconds(200)
        for attempt in 1...30 {
            do {
                let response = try await http.execute(HTTPClientRequest(url: server + "/cacerts"), timeout: .seconds(10))
                let pem = String(buffer: try await response.body.collect(upTo: 1024 * 1024))
                guard token.trusts(caPEM: pem) else {
                    throw CommandFailure("the server's CA does not match the join token: wrong --server or --token")
                }
                return pem
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                if attempt == 30 { throw CommandFailure("cannot reach \(server): \(error)") }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        throw CommandFailure("cannot reach \(server)")
    }
}
